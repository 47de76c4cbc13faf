// FTP server role for the control channel (RFC 959 §4-5, RFC 2228 §3-4, RFC 4217 §4-9,
// RFC 2389 §3, RFC 1635 anonymous logins).
#include "otls/proto/ftp/server.hpp"

#include <charconv>

namespace otls::proto::ftp {
namespace {

std::string line(std::string_view text) {
  return std::string(text) + "\r\n";
}

bool is_anonymous(std::string_view user) {
  return core::iequals(user, "anonymous") || core::iequals(user, "ftp");
}

// Commands that move data or touch files: this role has no data channel (and no files).
bool is_transfer_command(std::string_view verb) {
  for (std::string_view v : {"PASV", "EPSV", "PORT", "EPRT", "LPSV", "LPRT", "LIST", "NLST", "MLSD",
                             "RETR", "STOR", "STOU", "APPE", "REST", "ABOR"})
    if (verb == v) return true;
  return false;
}

}  // namespace

server::server(server_options options)
    : server_base(std::move(options)),
      lines_(max_command_line, core::line_ending::accept_bare_lf) {}

// RFC 959 §4.2: 421 is the reply that precedes a close the client did not ask for.
std::string server::too_many_errors_reply(std::string) const {
  return "421 Too many errors, closing control connection";
}

action server::next() {
  if (auto early = before_reading(state::command, [&] {
        return line("220 " + options_.hostname + " FTP server (otls) ready");
      }))
    return std::move(*early);
  auto next_line = lines_.next_line();
  if (!next_line) {
    diag_.detail = next_line.error().message();
    return close_with(next_line.error() == core::errc::line_too_long
                          ? "500 Command line too long, closing control connection"
                          : "421 Too much input, closing control connection",
                      next_line.error());
  }
  if (!*next_line) return out_of_input(lines_.buffered() > 0);
  const auto cmd = parse_command(**next_line);
  if (!cmd) return error_reply("500 Syntax error, command unrecognized");
  return on_command(*cmd);
}

action server::features() const {
  std::string out = line("211-Features:");
  // RFC 4217 §6; AUTH is listed only while it can still be used.
  if (options_.tls_available && !tls_active_) out += line(" AUTH TLS");
  if (options_.tls_available) out += line(" PBSZ") + line(" PROT");
  return action::write(out + line(" UTF8") + line("211 End"));
}

action server::auth(const command& cmd) {
  // RFC 4217 §4: TLS (TLS-C, and SSL as legacy clients such as curl try first) upgrades the
  // control channel; RFC 2228 §3: a second AUTH inside the protected session is refused.
  if (cmd.args.empty()) return error_reply("501 Syntax: AUTH TLS");
  if (!core::iequals(cmd.args, "TLS") && !core::iequals(cmd.args, "TLS-C") &&
      !core::iequals(cmd.args, "SSL"))
    return error_reply("504 Security mechanism not understood");
  if (tls_active_) return error_reply("503 Security data exchange already completed");
  // Without TLS this role is a server that does not implement AUTH (RFC 2228 §4: 502), as
  // ProFTPD without mod_tls answers 500: not a refusal of an offered upgrade (431/534).
  if (!options_.tls_available) return error_reply("502 TLS is not available on this server");
  // Rule 3 of DESIGN.md: the go-ahead goes out first; whatever the client pipelined behind
  // this line is discarded by the driver, never executed inside TLS.
  return go_ahead("234 AUTH " + core::to_upper(cmd.args) + " successful");
}

action server::protection(const command& cmd) {
  if (!tls_active_) return error_reply("503 " + cmd.verb + " needs AUTH TLS first");
  if (cmd.verb == "PBSZ") {
    unsigned long size = 0;
    const auto [end, ec] =
        std::from_chars(cmd.args.data(), cmd.args.data() + cmd.args.size(), size);
    if (cmd.args.empty() || ec != std::errc{} || end != cmd.args.data() + cmd.args.size())
      return error_reply("501 Syntax: PBSZ 0");
    pbsz_done_ = true;
    return action::write(line("200 PBSZ=0"));  // RFC 4217 §9: TLS always uses 0
  }
  if (!pbsz_done_) return error_reply("503 PBSZ must come before PROT");
  if (cmd.args.size() != 1) return error_reply("501 Syntax: PROT C|P");
  const char level = static_cast<char>(core::to_upper(cmd.args).front());
  if (level == 'S' || level == 'E')
    return error_reply("536 Protection level not supported by TLS");  // RFC 4217 §9
  if (level != 'C' && level != 'P') return error_reply("504 Unknown protection level");
  if (level == 'C' && options_.starttls_required)
    return error_reply("534 Data connections must be protected (PROT P)");
  protection_ = level;
  return action::write(line(std::string("200 Protection level set to ") + level));
}

action server::login(const command& cmd) {
  if (cmd.verb == "USER") {
    if (cmd.args.empty()) return error_reply("501 Syntax: USER name");
    logged_in_ = false;
    user_ = cmd.args;
    if (is_anonymous(user_))
      return action::write(line("331 Anonymous login ok, send your e-mail address as password"));
    return action::write(line("331 Password required for " + user_));
  }
  // PASS
  if (user_.empty()) return error_reply("503 Login with USER first");
  const bool anonymous = is_anonymous(user_);
  user_.clear();
  if (!anonymous) return error_reply("530 Login incorrect");  // no accounts: anonymous only
  logged_in_ = true;
  return action::write(line("230 Anonymous access granted"));
}

action server::on_command(const command& cmd) {
  const std::string& verb = cmd.verb;
  if (verb == "QUIT") return close_with("221 Goodbye", {});
  if (verb == "FEAT") return features();
  if (verb == "AUTH") return auth(cmd);
  if (verb == "NOOP") return action::write(line("200 NOOP ok"));
  if (verb == "SYST") return action::write(line("215 UNIX Type: L8"));
  if (verb == "HELP")
    return action::write(line("214-The following commands are recognized:") +
                         line(" AUTH CCC CDUP CWD FEAT HELP MODE NOOP OPTS PASS PBSZ PROT PWD") +
                         line(" QUIT STRU SYST TYPE USER") + line("214 Direct comments to root"));
  if (verb == "OPTS") {
    if (core::iequals(cmd.args, "UTF8 ON")) return action::write(line("200 UTF8 set to on"));
    return error_reply("501 Option not understood");
  }
  // RFC 4217 §4 (a policy refusal): nothing else before TLS where TLS is required.
  if (options_.starttls_required && !tls_active_)
    return error_reply("530 TLS required on the control channel: use AUTH TLS");
  if (verb == "PBSZ" || verb == "PROT") return protection(cmd);
  if (verb == "CCC") {
    if (!tls_active_) return error_reply("533 The control channel is not protected");
    return error_reply("534 Clearing the control channel is refused by policy");  // RFC 4217 §5
  }
  if (verb == "USER" || verb == "PASS") return login(cmd);
  if (!logged_in_) return error_reply("530 Please login with USER and PASS");
  if (verb == "PWD" || verb == "XPWD")
    return action::write(line("257 \"/\" is the current directory"));
  if (verb == "CWD" || verb == "XCWD" || verb == "CDUP" || verb == "XCUP") {
    if (verb == "CDUP" || verb == "XCUP" || cmd.args == "/" || cmd.args == ".")
      return action::write(line("250 Directory changed to /"));
    return error_reply("550 " + cmd.args + ": No such directory");
  }
  if (verb == "TYPE") {
    const std::string type = core::to_upper(cmd.args);
    if (type == "A" || type == "I" || type == "A N" || type == "L 8")
      return action::write(line("200 Type set to " + type));
    return error_reply("504 Type not implemented");
  }
  if (verb == "MODE" || verb == "STRU") {
    if (core::iequals(cmd.args, verb == "MODE" ? "S" : "F"))
      return action::write(line("200 " + verb + " set to " + core::to_upper(cmd.args)));
    return error_reply("504 " + verb + " not implemented");
  }
  if (verb == "SIZE" || verb == "MDTM") return error_reply("550 " + cmd.args + ": No such file");
  if (is_transfer_command(verb))
    return error_reply("502 No data channel on this server (control channel only)");
  return error_reply("500 " + verb + " not understood");
}

void server::on_tls_established() {
  // RFC 4217 §4: the session restarts its security state; a fresh reader means nothing
  // pipelined behind AUTH TLS is executed inside TLS (DESIGN.md rule 1). A login made in
  // plaintext (possible where TLS is optional) is dropped: USER is asked again inside TLS.
  tls_active_ = true;
  lines_ = core::line_reader(max_command_line, core::line_ending::accept_bare_lf);
  logged_in_ = false;
  user_.clear();
  state_ = state::command;
}

}  // namespace otls::proto::ftp
