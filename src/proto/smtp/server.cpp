// SMTP/LMTP server role with STARTTLS (RFC 5321 §4.1, RFC 3207 §4, RFC 2033 §4.2).
#include "otls/proto/smtp/server.hpp"

namespace otls::proto::smtp {
namespace {

constexpr std::string_view crlf = "\r\n";

std::string line(std::string_view text) {
  return std::string(text) + std::string(crlf);
}

}  // namespace

server::server(server_options options, variant v)
    : server_base(std::move(options)),
      variant_(v),
      // CRLF only: bare LF is refused outright, as in Postfix's smtpd_forbid_bare_newline,
      // to close the SMTP smuggling gap (CVE-2023-51766 and relatives).
      lines_(max_command_line, core::line_ending::crlf_only) {}

std::string server::too_many_errors_reply(std::string) const {
  return "421 4.7.0 " + options_.hostname + " Error: too many errors";
}

void server::reset_transaction() {
  mail_from_ = false;
  recipients_ = 0;
  message_bytes_ = 0;
}

action server::next() {
  if (auto early = before_reading(state::command, [&] {
        return line("220 " + options_.hostname + (variant_ == variant::lmtp ? " LMTP" : " ESMTP") +
                    " otls");
      }))
    return std::move(*early);
  for (;;) {
    auto next_line = lines_.next_line();
    if (!next_line) {
      diag_.detail = next_line.error().message();
      if (next_line.error() == core::errc::bare_line_feed)
        return close_with("521 5.5.2 " + options_.hostname + " Error: bare <LF> received",
                          next_line.error());
      return close_with("500 5.5.2 " + options_.hostname + " Error: line too long",
                        next_line.error());
    }
    if (!*next_line) break;
    if (state_ == state::command) return on_command(**next_line);
    if (auto reply = on_data_line(**next_line)) return std::move(*reply);
  }
  return out_of_input(state_ == state::data || lines_.buffered() > 0);
}

action server::ehlo(const command& cmd) {
  if (cmd.args.empty()) return error_reply("501 5.5.4 Syntax: " + cmd.verb + " hostname");
  greeted_ = true;
  reset_transaction();
  std::vector<std::string> extensions{"PIPELINING", "SIZE " + std::to_string(max_message_size),
                                      "8BITMIME", "ENHANCEDSTATUSCODES"};
  // Offered only before TLS (RFC 3207 §4.2: not after a successful handshake).
  if (options_.tls_available && !tls_active_) extensions.push_back("STARTTLS");
  std::string out = "250-" + options_.hostname + line("");
  for (std::size_t i = 0; i < extensions.size(); ++i)
    out += (i + 1 < extensions.size() ? "250-" : "250 ") + line(extensions[i]);
  return action::write(std::move(out));
}

action server::on_command(const std::string& text) {
  const auto cmd = parse_command(text);
  if (!cmd) return error_reply("500 5.5.2 Error: command not recognized");
  const std::string& verb = cmd->verb;
  const std::string_view hello_verb = variant_ == variant::lmtp ? "LHLO" : "EHLO";

  if (verb == "QUIT") return close_with("221 2.0.0 Bye", {});
  if (verb == "NOOP") return action::write(line("250 2.0.0 Ok"));
  if (verb == "RSET") {
    reset_transaction();
    return action::write(line("250 2.0.0 Ok"));
  }
  if (verb == hello_verb) return ehlo(*cmd);
  if (verb == "STARTTLS") {
    if (!cmd->args.empty()) return error_reply("501 5.5.4 Syntax: STARTTLS");
    if (tls_active_) return error_reply("554 5.5.1 Error: TLS already active");
    if (!options_.tls_available) return error_reply("454 4.7.0 TLS not available");
    // Rule 3 of DESIGN.md: the go-ahead goes out first, the driver upgrades afterwards and
    // discards whatever the client pipelined behind this line.
    return go_ahead("220 2.0.0 Ready to start TLS");
  }
  if (options_.starttls_required && !tls_active_)
    return error_reply("530 5.7.0 Must issue a STARTTLS command first");
  if (verb == "HELO" && variant_ == variant::smtp) {
    if (cmd->args.empty()) return error_reply("501 5.5.4 Syntax: HELO hostname");
    greeted_ = true;
    reset_transaction();
    return action::write(line("250 " + options_.hostname));
  }
  if (verb == "MAIL") {
    if (!greeted_)
      return error_reply("503 5.5.1 Error: send " + std::string(hello_verb) + " first");
    if (mail_from_) return error_reply("503 5.5.1 Error: nested MAIL command");
    mail_from_ = true;
    return action::write(line("250 2.1.0 Ok"));
  }
  if (verb == "RCPT") {
    if (!mail_from_) return error_reply("503 5.5.1 Error: need MAIL command");
    ++recipients_;
    return action::write(line("250 2.1.5 Ok"));
  }
  if (verb == "DATA") {
    if (recipients_ == 0) return error_reply("503 5.5.1 Error: need RCPT command");
    state_ = state::data;
    message_bytes_ = 0;
    return action::write(line("354 End data with <CR><LF>.<CR><LF>"));
  }
  return error_reply("500 5.5.2 Error: command not recognized");
}

std::optional<action> server::on_data_line(const std::string& text) {
  if (text != ".") {
    message_bytes_ += text.size() + 2;  // counted, never stored: the sink keeps nothing
    return std::nullopt;
  }
  state_ = state::command;
  const bool too_big = message_bytes_ > max_message_size;
  const unsigned replies = variant_ == variant::lmtp ? recipients_ : 1;  // RFC 2033 §4.2
  reset_transaction();
  if (too_big) return action::write(line("552 5.3.4 Error: message too large"));
  ++messages_;
  std::string out;
  for (unsigned i = 0; i < replies; ++i) out += line("250 2.0.0 Ok: accepted and discarded");
  return action::write(std::move(out));
}

void server::on_tls_established() {
  // RFC 3207 §4.2: discard all knowledge from the client; a new EHLO is expected.
  tls_active_ = true;
  greeted_ = false;
  reset_transaction();
  lines_ = core::line_reader(max_command_line, core::line_ending::crlf_only);
  state_ = state::command;
}

}  // namespace otls::proto::smtp
