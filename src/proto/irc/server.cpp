// IRC server role with STARTTLS (IRCv3 tls extension, IRCv3 capability negotiation 3.2,
// RFC 2812 §3.1 registration and QUIT, §3.7.2 PING, §5 numerics).
#include "otls/proto/irc/server.hpp"

#include <algorithm>
#include <cctype>
#include <utility>

#include "otls/core/text.hpp"

namespace otls::proto::irc {
namespace {

std::string line(std::string_view text) {
  return std::string(text) + "\r\n";
}

using core::to_upper;

// RFC 2812 §2.3.1 nickname: letters, digits and specials; 30 is a common server limit.
bool valid_nick(std::string_view n) {
  constexpr std::string_view specials = "[]\\`_^{|}-";
  return !n.empty() && n.size() <= 30 && !std::isdigit(static_cast<unsigned char>(n.front())) &&
         n.front() != '-' && std::all_of(n.begin(), n.end(), [&](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) ||
                  specials.find(c) != std::string_view::npos;
         });
}

}  // namespace

server::server(server_options options)
    : server_base(std::move(options)), lines_(max_line, core::line_ending::accept_bare_lf) {
  state_ = state::command;  // IRC clients speak first; see next()
}

std::string server::reply(std::string_view numeric, std::string_view text) const {
  return ":" + options_.hostname + " " + std::string(numeric) + " " + target() + " " +
         std::string(text);
}

std::string server::too_many_errors_reply(std::string refusal) const {
  return refusal + "ERROR :Closing link: too many errors";
}

action server::next() {
  // No greeting: the constructor starts in `command`. Real servers often send NOTICEs first,
  // but openssl s_client -starttls irc gives up on any line before the 670 that is not a
  // numeric, so this server speaks only when spoken to.
  if (auto early = before_reading(state::command, [] { return std::string(); }))
    return std::move(*early);
  for (;;) {
    auto next_line = lines_.next_line();
    if (!next_line) {
      diag_.detail = next_line.error().message();
      // IRCv3 / modern servers answer 417 ERR_INPUTTOOLONG; closing is the safe choice here.
      return close_with(next_line.error() == core::errc::line_too_long
                            ? "ERROR :Closing link: input line too long"
                            : "ERROR :Closing link: too much input",
                        next_line.error());
    }
    if (!*next_line) return out_of_input(lines_.buffered() > 0);
    const std::string& text = **next_line;
    // RFC 2812 §2.3.1: empty messages are silently ignored.
    if (std::all_of(text.begin(), text.end(), [](char c) { return c == ' '; })) continue;
    const auto m = parse_message(text);
    if (!m) return error_reply(reply("421", ":Unknown command"));
    if (auto a = on_message(*m)) return std::move(*a);
  }
}

std::optional<action> server::on_message(const message& m) {
  const std::string& cmd = m.command;
  if (cmd == "QUIT") return close_with("ERROR :Closing link: (Quit)", {});
  if (cmd == "CAP") return on_cap(m);
  if (cmd == "STARTTLS") return on_starttls();
  if (cmd == "PING") {
    if (m.params.empty()) return error_reply(reply("409", ":No origin specified"));
    return action::write(
        line(":" + options_.hostname + " PONG " + options_.hostname + " :" + m.params.front()));
  }
  if (cmd == "PONG") return std::nullopt;  // an answer to nothing we asked: ignored
  if (cmd == "NICK") {
    if (m.params.empty()) return error_reply(reply("431", ":No nickname given"));
    if (!valid_nick(m.params.front()))
      return error_reply(reply("432", m.params.front() + " :Erroneous nickname"));
    nick_ = m.params.front();
    return maybe_register();
  }
  if (cmd == "USER") {
    if (registered_) return error_reply(reply("462", ":You may not reregister"));
    if (m.params.size() < 4) return error_reply(reply("461", "USER :Not enough parameters"));
    user_given_ = true;
    return maybe_register();
  }
  if (!registered_) return error_reply(reply("451", ":You have not registered"));
  return error_reply(reply("421", cmd + " :Unknown command"));
}

std::optional<action> server::on_cap(const message& m) {
  if (m.params.empty()) return error_reply(reply("461", "CAP :Not enough parameters"));
  const std::string sub = to_upper(m.params.front());
  if (sub == "LS") {
    if (!registered_) negotiating_caps_ = true;
    // IRCv3 tls: offered only where STARTTLS can work, and never once TLS is up.
    const bool offer = options_.tls_available && !tls_active_;
    return action::write(
        line(":" + options_.hostname + " CAP " + target() + " LS :" + (offer ? "tls" : "")));
  }
  if (sub == "LIST")
    return action::write(line(":" + options_.hostname + " CAP " + target() + " LIST :"));
  if (sub == "REQ") {
    // Nothing here is requestable (`tls` is not a capability to enable: STARTTLS is the command).
    if (!registered_) negotiating_caps_ = true;
    const std::string asked = m.params.size() > 1 ? m.params[1] : "";
    return action::write(line(":" + options_.hostname + " CAP " + target() + " NAK :" + asked));
  }
  if (sub == "END") {
    negotiating_caps_ = false;
    return maybe_register();
  }
  return error_reply(reply("410", m.params.front() + " :Invalid CAP command"));
}

action server::on_starttls() {
  // IRCv3 tls: 691 when TLS is already up or cannot work; InspIRCd and the spec also refuse it
  // after registration, where the client has already sent everything in plaintext.
  if (tls_active_) return error_reply(reply("691", ":STARTTLS failure (TLS already active)"));
  if (!options_.tls_available) return error_reply(reply("691", ":STARTTLS not available"));
  if (registered_)
    return error_reply(
        reply("691", ":STARTTLS is not permitted after client registration is complete"));
  // DESIGN.md rule 3: the go-ahead goes out first; the driver then upgrades and discards
  // whatever the client pipelined behind this line.
  return go_ahead(reply("670", ":STARTTLS successful, proceed with TLS handshake"));
}

std::optional<action> server::maybe_register() {
  if (registered_ || nick_.empty() || !user_given_ || negotiating_caps_) return std::nullopt;
  if (options_.starttls_required && !tls_active_) {
    diag_.detail = "the client tried to register without TLS";
    return close_with("ERROR :Closing link: TLS is required here, use STARTTLS or implicit TLS",
                      {});
  }
  registered_ = true;
  // RFC 2812 §5.1: 001 welcomes; 422 says there is no MOTD, which ends registration for clients.
  return action::write(line(reply("001", ":Welcome to the otls IRC test server " + nick_)) +
                       line(reply("422", ":MOTD File is missing")));
}

void server::on_tls_established() {
  // IRCv3 tls: the session goes on inside TLS; nothing read before the handshake is used.
  // A NICK/USER given in plaintext (the usual order is CAP LS, NICK, USER, STARTTLS) could
  // be an injector's: registration starts over inside TLS, as does capability negotiation.
  tls_active_ = true;
  lines_ = core::line_reader(max_line, core::line_ending::accept_bare_lf);
  nick_.clear();
  user_given_ = false;
  negotiating_caps_ = false;
  state_ = state::command;
}

}  // namespace otls::proto::irc
