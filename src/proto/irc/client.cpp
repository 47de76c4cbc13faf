// IRC client role through STARTTLS (IRCv3 tls extension and capability negotiation 3.2, IRCv3
// STS, RFC 2812 §3.1.7 QUIT, §3.7.2-3 PING/PONG, §5 numerics 421 and 451).
#include "otls/proto/irc/client.hpp"

#include <algorithm>
#include <utility>

namespace otls::proto::irc {
namespace {

// Numerics of the IRCv3 tls extension and RFC 2812 §5.2.
constexpr int rpl_starttls = 670;
constexpr int err_starttls = 691;
constexpr int err_unknowncommand = 421;
constexpr int err_notregistered = 451;
constexpr int err_invalidcapcmd = 410;

// RFC 2812 §5.2 error replies are 400-599; the tls extension added 691 outside that range.
bool is_error_numeric(const message& m) {
  return (m.numeric() >= 400 && m.numeric() < 600) || m.numeric() == err_starttls;
}
// "I do not know this command": what a server without CAP or STARTTLS answers. Some servers
// answer unknown commands before registration with 451 instead of 421.
bool is_unknown_command(const message& m) {
  return m.numeric() == err_unknowncommand || m.numeric() == err_notregistered ||
         m.numeric() == err_invalidcapcmd;
}

}  // namespace

client::client(client_options options) : client_base(std::move(options)) {
  state_ = state::cap_ls;
  pending_write_ = "CAP LS 302\r\n";  // 302: capability values (sts=...) and multi-line lists
}

std::string client::goodbye_command() {
  // IRCv3 capability negotiation: CAP END ends negotiation; QUIT then ends the session.
  return cap_answered_ ? "CAP END\r\nQUIT\r\n" : "QUIT\r\n";
}

std::optional<sts_policy> client::sts() const {
  const auto it =
      std::find_if(caps_.begin(), caps_.end(), [](const capability& c) { return c.name == "sts"; });
  if (it == caps_.end()) return std::nullopt;
  return parse_sts(it->value);
}

action client::next() {
  if (auto a = before_reading()) return std::move(*a);
  for (;;) {
    auto r = messages_.next();
    if (!r) {
      diag_.detail = r.error() == errc::malformed_reply
                         ? "the server sent something that is not an IRC message"
                         : "unreadable message from the server: " + r.error().message();
      return fail(r.error(), nullptr);
    }
    if (!*r) return out_of_input(messages_.mid_message() || cap_ls_lines_ > 0, "message");
    if (auto a = on_message(**r)) return std::move(*a);
  }
}

action client::read_past(const message& m) {
  // A bound on what the session reads past, so that a chatty server cannot keep it forever.
  if (++ignored_ > max_ignored_messages) {
    diag_.detail = "the server sent too many messages without answering";
    return fail(errc::unexpected_reply, &m);
  }
  return action::need_more();  // sentinel: next() reads on
}

std::optional<action> client::on_message(const message& m) {
  std::optional<action> a;
  if (m.command == "PING") {
    // RFC 2812 §3.7.3: answer with the same token, or the server drops us as dead.
    a = read_past(m);
    if (a->what == action::kind::need_more)
      return action::write("PONG :" + std::string(m.last_param()) + "\r\n");
    return a;
  }
  if (m.command == "ERROR") {
    // RFC 2812 §3.7.4: the server is closing the link.
    if (saying_goodbye()) return goodbye_answered();
    diag_.detail = "the server closed the link";
    return fail(errc::service_unavailable, &m);
  }
  if (saying_goodbye()) {
    a = read_past(m);
  } else if (m.command == "NOTICE") {
    // Servers greet with NOTICEs ("*** Looking up your hostname..."): read past, keep for the
    // report.
    if (facts_.banner.size() < max_banner_notices) facts_.banner.emplace_back(m.last_param());
    a = read_past(m);
  } else if (state_ == state::cap_ls || state_ == state::cap_ls_after_tls) {
    a = on_cap_ls_phase(m);
  } else if (state_ == state::starttls) {
    a = on_starttls_reply(m);
  } else {
    a = read_past(m);
  }
  if (a && a->what == action::kind::need_more) return std::nullopt;
  return a;
}

std::optional<action> client::on_cap_ls_phase(const message& m) {
  if (const auto cap = parse_cap_reply(m); cap && cap->subcommand == "LS") {
    if (++cap_ls_lines_ > max_cap_ls_lines) {
      diag_.detail = "the server's CAP LS reply has too many lines";
      return fail(errc::malformed_reply, &m);
    }
    for (auto& c : parse_capabilities(cap->list)) caps_.push_back(std::move(c));
    if (cap->more) return std::nullopt;  // IRCv3 3.2: "CAP * LS * :..." continues
    cap_ls_lines_ = 0;
    cap_answered_ = true;
    std::vector<std::string> listed;
    for (const auto& c : caps_) listed.push_back(c.as_text());
    record_capabilities(listed);
    if (!tls_active_) cap_worked_ = true;
    return after_capabilities();
  }
  if (is_unknown_command(m)) {
    if (tls_active_) {
      if (cap_worked_) {
        diag_.detail = "the server answered CAP LS before TLS but refused it after the handshake";
        return goodbye_and_fail(errc::unexpected_reply, &m);
      }
      return goodbye();
    }
    // No capability negotiation: nothing is known, so STARTTLS itself asks (its answer tells).
    state_ = state::starttls;
    return action::write("STARTTLS\r\n");
  }
  if (is_error_numeric(m)) {
    diag_.detail = "the server answered CAP LS with an error";
    return goodbye_and_fail(errc::unexpected_reply, &m);
  }
  return read_past(m);  // e.g. 020 "please wait", CAP NEW/DEL, other servers' chatter
}

action client::after_capabilities() {
  if (tls_active_) return goodbye();
  facts_.starttls_offered =
      std::any_of(caps_.begin(), caps_.end(), [](const capability& c) { return c.name == "tls"; });
  if (facts_.starttls_offered) {
    state_ = state::starttls;
    return action::write("STARTTLS\r\n");
  }
  diag_.detail = "the tls capability is not in the server's CAP LS list";
  if (const auto policy = sts(); policy && policy->port)
    diag_.detail +=
        " (it advertises sts with port " + std::to_string(*policy->port) +
        ": the server wants TLS on that port, try ircs://HOST:" + std::to_string(*policy->port) +
        ")";
  if (options_.require_tls) return goodbye_and_fail(errc::starttls_not_supported, nullptr);
  return continue_in_plaintext(diag_.detail + ": the session continued in PLAINTEXT");
}

std::optional<action> client::on_starttls_reply(const message& m) {
  if (m.numeric() == rpl_starttls) {
    // A server without CAP that accepts STARTTLS has offered it in effect.
    facts_.starttls_offered = true;
    return go_ahead();
  }
  if (!is_error_numeric(m)) return read_past(m);
  diag_.set_peer(m.as_peer_text());
  error_code ec = errc::starttls_rejected;
  if (m.numeric() == err_starttls) {
    diag_.detail = "the server refused STARTTLS";
  } else if (is_unknown_command(m) && !cap_worked_) {
    // Neither CAP nor STARTTLS: an old server without the upgrade, not a refused offer.
    diag_.detail = "the server implements neither CAP nor STARTTLS";
    ec = errc::starttls_not_supported;
  } else if (is_unknown_command(m)) {
    diag_.detail = "the server offered the tls capability but does not know STARTTLS";
  } else {
    diag_.detail = "the server answered STARTTLS with an error";
  }
  if (options_.require_tls) return goodbye_and_fail(ec, &m);
  return continue_in_plaintext(diag_.detail + " (" + m.raw +
                               "): the session continued in PLAINTEXT");
}

void client::on_tls_established() {
  // IRCv3 tls: capabilities may change after the handshake; ask again and forget the old list.
  caps_.clear();
  cap_ls_lines_ = 0;
  cap_answered_ = false;
  messages_ = message_reader{};
  restart_after_tls(state::cap_ls_after_tls, "CAP LS 302\r\n");
}

}  // namespace otls::proto::irc
