// ManageSieve server role with STARTTLS (RFC 5804 §1.3 response codes, §1.7 capabilities, §2.2
// STARTTLS, §2.3 LOGOUT, §2.4 CAPABILITY, §2.12 NOOP).
#include "otls/proto/sieve/server.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

namespace otls::proto::sieve {
namespace {

std::string line(std::string_view text) {
  return std::string(text) + "\r\n";
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// RFC 5804 commands that act on scripts or the session after login.
constexpr std::array<std::string_view, 9> after_login{
    "HAVESPACE",    "PUTSCRIPT",    "LISTSCRIPTS", "SETACTIVE",     "GETSCRIPT",
    "DELETESCRIPT", "RENAMESCRIPT", "CHECKSCRIPT", "UNAUTHENTICATE"};

}  // namespace

server::server(server_options options) : server_base(std::move(options)) {}

std::string server::too_many_errors_reply(std::string) const {
  return "BYE \"Too many errors\"";
}

std::string server::capability_list() const {
  const bool offer_tls = options_.tls_available && !tls_active_;
  const bool plain = tls_active_ || (!options_.tls_available && !options_.starttls_required);
  std::string out = line("\"IMPLEMENTATION\" \"otls\"") + line("\"SIEVE\" \"\"") +
                    line(std::string("\"SASL\" ") + (plain ? "\"PLAIN\"" : "\"\""));
  if (offer_tls) out += line("\"STARTTLS\"");  // §2.2: never once TLS is active
  return out + line("\"VERSION\" \"1.0\"");
}

action server::next() {
  if (state_ == state::capabilities_due) {
    // RFC 5804 §2.2: after the handshake the server speaks first, with fresh capabilities.
    state_ = state::command;
    return action::write(capability_list() + line("OK \"TLS negotiation successful\""));
  }
  if (auto early = before_reading(state::command, [&] {
        return capability_list() + line("OK " + quote(options_.hostname + " ManageSieve ready"));
      }))
    return std::move(*early);
  auto next_line = tokens_.next();
  if (!next_line) {
    diag_.detail = tokens_.detail();
    if (next_line.error() == errc::malformed_reply) {
      tokens_.skip_line();
      return error_reply("NO " + quote("Syntax error: " + tokens_.detail()));
    }
    // A literal or line over the limit cannot be resynchronised: close.
    return close_with("BYE " + quote(tokens_.detail()), next_line.error());
  }
  if (*next_line) return on_command((*next_line)->tokens);
  return out_of_input(tokens_.buffered() > 0);
}

action server::on_command(const std::vector<token>& tokens) {
  if (tokens.empty() || tokens[0].what != token::kind::atom)
    return error_reply("NO \"Syntax error: a command name was expected\"");
  const std::string verb = upper(tokens[0].text);
  const std::size_t args = tokens.size() - 1;

  if (verb == "LOGOUT") return close_with("OK \"Bye\"", {});
  if (verb == "CAPABILITY")
    return action::write(capability_list() + line("OK \"Capability completed\""));
  if (verb == "NOOP") {
    // §2.12: NOOP [string]; the string comes back as a TAG response code.
    if (args == 0) return action::write(line("OK \"Done\""));
    if (args == 1 && tokens[1].what == token::kind::string)
      return action::write(line("OK (TAG " + quote(tokens[1].text) + ") \"Done\""));
    return error_reply("NO \"Syntax: NOOP [tag]\"");
  }
  if (verb == "STARTTLS") {
    if (args != 0) return error_reply("NO \"Syntax: STARTTLS takes no arguments\"");
    if (tls_active_) return error_reply("NO \"TLS is already active\"");
    if (!options_.tls_available) return error_reply("NO \"TLS is not available\"");
    // DESIGN.md rule 3: the go-ahead goes out first; the driver then upgrades and discards
    // whatever the client pipelined behind this line.
    return go_ahead("OK \"Begin TLS negotiation now\"");
  }
  if (verb == "AUTHENTICATE") {
    if (options_.starttls_required && !tls_active_)
      return error_reply(
          "NO (ENCRYPT-NEEDED) \"Authentication is not permitted without TLS: use STARTTLS\"");
    return error_reply("NO \"Authentication failed\"");
  }
  if (std::find(after_login.begin(), after_login.end(), verb) != after_login.end())
    return error_reply("NO \"Authenticate first\"");
  return error_reply("NO \"Unknown command\"");
}

void server::on_tls_established() {
  // §2.2: the session starts over inside TLS; nothing read before it is used.
  tls_active_ = true;
  tokens_ = tokenizer{};
  state_ = state::capabilities_due;
}

}  // namespace otls::proto::sieve
