// NNTP server role with STARTTLS (RFC 3977 §5, §7.1-7.2; RFC 4642 §2.2; RFC 4643 §2.1-2.2).
#include "otls/proto/nntp/server.hpp"

#include <chrono>
#include <cstdio>

namespace otls::proto::nntp {
namespace {

std::string line(std::string_view text) {
  return std::string(text) + "\r\n";
}

// RFC 3977 §9 (ABNF): keyword = ALPHA 2*(ALPHA / DIGIT / "." / "-").
bool is_keyword(std::string_view s) {
  const auto alpha = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); };
  if (s.size() < 3 || !alpha(s.front())) return false;
  for (char c : s)
    if (!alpha(c) && !(c >= '0' && c <= '9') && c != '.' && c != '-') return false;
  return true;
}

// RFC 3977 §7.1: "111 yyyymmddhhmmss", in UTC.
std::string date_reply() {
  using namespace std::chrono;
  const auto now = floor<seconds>(system_clock::now());
  const auto day = floor<days>(now);
  const year_month_day ymd{day};
  const hh_mm_ss hms{now - day};
  char buf[32];
  std::snprintf(buf, sizeof buf, "111 %04d%02u%02u%02ld%02ld%02ld", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<long>(hms.hours().count()), static_cast<long>(hms.minutes().count()),
                static_cast<long>(hms.seconds().count()));
  return line(buf);
}

}  // namespace

server::server(server_options options)
    : server_base(std::move(options)),
      lines_(max_command_line, core::line_ending::accept_bare_lf) {}

// RFC 3977 §3.2.1: 400 is the response that precedes a close the client did not ask for.
std::string server::too_many_errors_reply(std::string) const {
  return "400 " + options_.hostname + " too many errors, closing connection";
}

action server::next() {
  // RFC 3977 §5.1.1 would have 201 (no POST here), but gnutls-cli --starttls-proto=nntp
  // waits for a literal "200 " and never upgrades after a 201.
  if (auto early = before_reading(state::command, [&] {
        return line("200 " + options_.hostname + " NNTP service ready (posting ok)");
      }))
    return std::move(*early);
  auto next_line = lines_.next_line();
  if (!next_line) {
    diag_.detail = next_line.error().message();
    return close_with("400 " + options_.hostname +
                          (next_line.error() == core::errc::line_too_long
                               ? " line too long, closing connection"
                               : " too much input, closing connection"),
                      next_line.error());
  }
  if (*next_line) return on_command(**next_line);
  return out_of_input(lines_.buffered() > 0);
}

action server::capabilities() const {
  std::string out = line("101 Capability list:") + line("VERSION 2") + line("IMPLEMENTATION otls") +
                    line("READER");
  // RFC 4642 §2.2.2: never listed once a TLS layer is active.
  if (options_.tls_available && !tls_active_) out += line("STARTTLS");
  // RFC 4643 §2.1: a bare AUTHINFO says the command exists but no variant is usable yet.
  out += line(options_.starttls_required && !tls_active_ ? "AUTHINFO" : "AUTHINFO USER");
  return action::write(out + line("."));
}

action server::authinfo(const command& cmd) {
  const std::string_view variant = first_word(cmd.args);
  const bool known = iequals(variant, "USER") || iequals(variant, "PASS") ||
                     iequals(variant, "SASL") || iequals(variant, "GENERIC");
  if (!known) return error_reply("501 Syntax: AUTHINFO USER name|PASS password");
  // RFC 4643 §2.2: 483 while a security layer is required and not yet in place.
  if (options_.starttls_required && !tls_active_)
    return error_reply("483 Encryption or stronger authentication required");
  if (iequals(variant, "SASL")) return error_reply("503 Mechanism not recognized");
  return error_reply("481 Authentication failed");
}

action server::on_command(const std::string& text) {
  const auto cmd = parse_command(text);
  if (!cmd) return error_reply("500 Unknown command");
  const std::string& verb = cmd->verb;

  if (verb == "QUIT") return close_with("205 Connection closing", {});
  if (verb == "CAPABILITIES") {
    // RFC 3977 §5.2.2: an unknown keyword argument is ignored; a non-keyword is a 501.
    if (!cmd->args.empty() && !is_keyword(cmd->args))
      return error_reply("501 Syntax: CAPABILITIES [keyword]");
    return capabilities();
  }
  if (verb == "STARTTLS") {
    if (!cmd->args.empty()) return error_reply("501 Syntax: STARTTLS takes no arguments");
    if (tls_active_) return error_reply("502 Command unavailable");  // RFC 4642 §2.2.2
    if (!options_.tls_available) return error_reply("580 Can not initiate TLS negotiation");
    // Rule 3 of DESIGN.md: the go-ahead goes out first, the driver upgrades afterwards and
    // discards whatever the client pipelined behind this line (RFC 4642 §2.2.2 forbids it).
    return go_ahead("382 Continue with TLS negotiation");
  }
  if (verb == "MODE") {
    // A reader-only server answers MODE READER as if it had switched (RFC 3977 §5.3.2).
    if (iequals(cmd->args, "READER")) return action::write(line("200 Reader mode, posting ok"));
    return error_reply("501 Syntax: MODE READER");
  }
  if (verb == "DATE") {
    if (!cmd->args.empty()) return error_reply("501 Syntax: DATE");
    return action::write(date_reply());
  }
  if (verb == "HELP") {
    if (!cmd->args.empty()) return error_reply("501 Syntax: HELP");
    return action::write(line("100 Help text follows") + line("  AUTHINFO USER name") +
                         line("  CAPABILITIES [keyword]") + line("  DATE") + line("  HELP") +
                         line("  MODE READER") + line("  QUIT") + line("  STARTTLS") + line("."));
  }
  if (verb == "AUTHINFO") return authinfo(*cmd);
  return error_reply("500 Unknown command");
}

void server::on_tls_established() {
  // RFC 4642 §2.2.2: discard all knowledge from before TLS; a fresh reader means nothing
  // pipelined behind STARTTLS can be answered inside TLS.
  tls_active_ = true;
  lines_ = core::line_reader(max_command_line, core::line_ending::accept_bare_lf);
  state_ = state::command;
}

}  // namespace otls::proto::nntp
