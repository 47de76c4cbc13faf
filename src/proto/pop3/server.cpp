// POP3 server role with STLS (RFC 1939 §4-6, RFC 2449 §5, RFC 2595 §4, RFC 3206 §4).
#include "otls/proto/pop3/server.hpp"

#include <utility>

namespace otls::proto::pop3 {
namespace {

std::string line(std::string_view text) {
  return std::string(text) + "\r\n";
}

}  // namespace

server::server(server_options options)
    : server_base(std::move(options)),
      lines_(max_command_line, core::line_ending::accept_bare_lf) {}

std::string server::too_many_errors_reply(std::string) const {
  return "-ERR too many errors";
}

action server::next() {
  if (auto early = before_reading(state::command,
                                  [&] { return line("+OK " + options_.hostname + " POP3 ready"); }))
    return std::move(*early);
  auto next_line = lines_.next_line();
  if (!next_line) {
    diag_.detail = next_line.error().message();
    return close_with(next_line.error() == core::errc::line_too_long ? "-ERR line too long"
                                                                     : "-ERR too much input",
                      next_line.error());
  }
  if (*next_line) return on_command(**next_line);
  return out_of_input(lines_.buffered() > 0);
}

action server::capa() const {
  // RFC 2449 §5: "+OK", one capability per line, ".". No TOP/UIDL: there is no mail store.
  std::string out = line("+OK Capability list follows") + line("CAPA") + line("RESP-CODES") +
                    line("AUTH-RESP-CODE");
  // RFC 2595 §4: STLS only where it can work, and never once TLS is up.
  if (options_.tls_available && !tls_active_) out += line("STLS");
  if (tls_active_ || !options_.starttls_required) out += line("USER");
  if (tls_active_) out += line("SASL PLAIN");  // RFC 2595 §6: PLAIN only under TLS
  return action::write(out + line("."));
}

action server::on_command(const std::string& text) {
  const auto cmd = parse_command(text);
  if (!cmd) return error_reply("-ERR Unknown command");
  const std::string& verb = cmd->verb;

  if (verb == "QUIT") return close_with("+OK " + options_.hostname + " POP3 signing off", {});
  if (verb == "NOOP") return action::write(line("+OK"));
  if (verb == "CAPA") return capa();
  if (verb == "STLS") {
    // RFC 2595 §4: no arguments; -ERR when TLS is active; refused when it cannot work.
    if (!cmd->args.empty()) return error_reply("-ERR STLS takes no arguments");
    if (tls_active_) return error_reply("-ERR Command not permitted when TLS active");
    if (!options_.tls_available) return error_reply("-ERR TLS not available");
    // DESIGN.md rule 3: the go-ahead goes out first; the driver then upgrades and discards
    // whatever the client pipelined behind this line.
    return go_ahead("+OK Begin TLS negotiation");
  }
  if (verb == "USER" || verb == "PASS" || verb == "APOP" || verb == "AUTH") {
    if (options_.starttls_required && !tls_active_)
      return error_reply("-ERR [AUTH] Command not permitted without TLS");
    return error_reply("-ERR [AUTH] Authentication failed");
  }
  return error_reply("-ERR Unknown command");
}

void server::on_tls_established() {
  // RFC 2595 §4: the session starts over inside TLS; nothing read before it is used.
  tls_active_ = true;
  lines_ = core::line_reader(max_command_line, core::line_ending::accept_bare_lf);
  state_ = state::command;
}

}  // namespace otls::proto::pop3
