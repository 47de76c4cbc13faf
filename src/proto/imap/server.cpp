// IMAP server role with STARTTLS (RFC 9051 §6.1, §6.2, §7.1, §7.5; RFC 3501; RFC 2595 §3.1).
#include "otls/proto/imap/server.hpp"

#include <algorithm>

namespace otls::proto::imap {
namespace {

std::string join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

}  // namespace

server::server(server_options options)
    : server_base(std::move(options)), frames_(command_limits, core::line_ending::accept_bare_lf) {}

std::vector<std::string> server::capabilities() const {
  // LITERAL- (RFC 7888 §5): non-synchronizing literals up to 4096 octets, our literal limit.
  std::vector<std::string> caps{"IMAP4rev1", "LITERAL-"};
  // STARTTLS only before TLS (RFC 9051 §6.2.1); LOGINDISABLED while LOGIN would be refused.
  if (!tls_active_ && options_.tls_available) caps.emplace_back("STARTTLS");
  if (!tls_active_ && options_.starttls_required) caps.emplace_back("LOGINDISABLED");
  return caps;
}

// The refused command still gets its tagged answer, then the untagged BYE (RFC 9051 §7.1.5).
std::string server::too_many_errors_reply(std::string refusal) const {
  return refusal + "* BYE Too many invalid commands";
}

action server::ok(const command& cmd, std::string_view text, std::string untagged) {
  return action::write(std::move(untagged) + cmd.tag + " OK " + std::string(text) + "\r\n");
}

action server::refuse(const command& cmd, std::string_view status, std::string_view text) {
  return error_reply(cmd.tag + " " + std::string(status) + " " + std::string(text));
}

action server::next() {
  // Capabilities in the greeting spare the client a round trip (RFC 9051 §7.1).
  if (auto early = before_reading(state::command, [&] {
        return "* OK [CAPABILITY " + join(capabilities()) + "] " + options_.hostname + " ready\r\n";
      }))
    return std::move(*early);
  auto f = frames_.next();
  if (!f) return on_frame_error(f.error());
  if (*f) {
    literals_continued_ = 0;
    if (auto cmd = parse_command(**f)) return on_command(*cmd);
    return refuse(command{"*", {}, {}, {}}, "BAD", "Missing or invalid tag");
  }
  // A synchronizing literal waits for our go-ahead, once per literal (RFC 9051 §7.5).
  if (auto literal = frames_.awaiting_literal();
      literal && literal->synchronizing && literal->index >= literals_continued_) {
    literals_continued_ = literal->index + 1;
    return action::write("+ Ready for additional command text\r\n");
  }
  return out_of_input(frames_.buffered() > 0);
}

action server::on_frame_error(error_code ec) {
  diag_.detail = ec.message();
  // RFC 7888 §5 / RFC 9051 §7.1: an oversized literal or command is BAD [TOOBIG]; the rest of
  // it may already be on its way, so the connection is closed rather than resynchronised.
  std::string_view partial = frames_.partial_text();
  std::string_view tag = partial.substr(0, std::min(partial.find(' '), partial.size()));
  if (!valid_tag(tag)) tag = "*";
  const char* what =
      ec == core::errc::line_too_long ? "Command line too long" : "Command too large";
  return close_with(std::string(tag) + " BAD [TOOBIG] " + what + "\r\n* BYE " + options_.hostname +
                        " closing connection",
                    ec);
}

action server::on_command(const command& cmd) {
  const std::string& name = cmd.name;
  if (name.empty()) return refuse(cmd, "BAD", "Missing command");
  if (name == "CAPABILITY") {
    if (!cmd.args.empty()) return refuse(cmd, "BAD", "CAPABILITY takes no arguments");
    return ok(cmd, "CAPABILITY completed", "* CAPABILITY " + join(capabilities()) + "\r\n");
  }
  if (name == "NOOP") {
    if (!cmd.args.empty()) return refuse(cmd, "BAD", "NOOP takes no arguments");
    return ok(cmd, "NOOP completed");
  }
  if (name == "LOGOUT") {
    // RFC 9051 §6.1.3: untagged BYE, then the tagged OK, then close.
    return close_with(
        "* BYE " + options_.hostname + " logging out\r\n" + cmd.tag + " OK LOGOUT completed", {});
  }
  if (name == "STARTTLS") {
    if (!cmd.args.empty()) return refuse(cmd, "BAD", "STARTTLS takes no arguments");
    if (tls_active_) return refuse(cmd, "BAD", "TLS is already active");
    if (!options_.tls_available) return refuse(cmd, "NO", "TLS is not available");
    // Rule 3 of DESIGN.md: the go-ahead goes out first; the driver upgrades afterwards and
    // discards whatever the client pipelined behind this command (RFC 9051 §6.2.1).
    return go_ahead(cmd.tag + " OK Begin TLS negotiation now");
  }
  if (name == "LOGIN" || name == "AUTHENTICATE") {
    if (cmd.args.empty()) return refuse(cmd, "BAD", name + " needs arguments");
    if (options_.starttls_required && !tls_active_)
      return refuse(cmd, "NO", "[PRIVACYREQUIRED] Use STARTTLS first");
    // No mailbox store behind this server: nobody can log in (documented in the header).
    return refuse(cmd, "NO", "[AUTHENTICATIONFAILED] Authentication failed: no mailboxes here");
  }
  return refuse(cmd, "BAD", "Command unknown or not allowed in this state");
}

void server::on_tls_established() {
  // RFC 9051 §6.2.1: no new greeting; a fresh parser, and STARTTLS is no longer offered.
  tls_active_ = true;
  literals_continued_ = 0;
  frames_ = frame_reader(command_limits, core::line_ending::accept_bare_lf);
  state_ = state::command;
}

}  // namespace otls::proto::imap
