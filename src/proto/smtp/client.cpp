// SMTP/LMTP client role through STARTTLS (RFC 5321 §4.1, RFC 3207 §4, RFC 2033 §4.1).
#include "otls/proto/smtp/client.hpp"

#include <utility>

namespace otls::proto::smtp {

client::client(client_options options, variant v) : client_base(std::move(options)), variant_(v) {}

std::string client::hello(std::string_view verb) const {
  return std::string(verb) + " " + options_.client_name + "\r\n";
}

action client::next() {
  if (auto a = before_reading()) return std::move(*a);
  auto r = replies_.next();
  if (!r) {
    diag_.detail = "unparseable reply from the server";
    return fail(r.error(), nullptr);
  }
  if (*r) return on_reply(**r);
  return out_of_input(replies_.buffered() > 0, "reply");
}

action client::on_reply(const reply& r) {
  switch (state_) {
    case state::greeting:
      facts_.banner = r.lines;
      if (r.code == 220) {
        state_ = state::ehlo;
        return action::write(hello(variant_ == variant::lmtp ? "LHLO" : "EHLO"));
      }
      // 421 and 554 greetings turn the client away (RFC 5321 §3.1, §4.3.2).
      if (r.code == 421 || r.code == 554) {
        diag_.detail = "the server refused service in its greeting";
        return goodbye_and_fail(errc::service_unavailable, &r);
      }
      diag_.detail = "the greeting is not a 220 reply";
      return fail(errc::unexpected_reply, &r);

    case state::ehlo:
    case state::ehlo_after_tls:
      if (r.code == 250) {
        caps_ = ehlo_capabilities::from_reply(r);
        record_capabilities(caps_.extensions);
        return after_capabilities();
      }
      if (r.code == 421) {
        diag_.detail = "the server closed the session (421) in reply to EHLO";
        return fail(errc::service_unavailable, &r);
      }
      // A server that rejects EHLO may still speak RFC 821; LMTP has no such fallback, and
      // after TLS a rejected EHLO leaves nothing to fall back to.
      if (state_ == state::ehlo && variant_ == variant::smtp && r.klass() == 5) {
        state_ = state::helo;
        return action::write(hello("HELO"));
      }
      diag_.detail = "the server rejected EHLO";
      return goodbye_and_fail(errc::unexpected_reply, &r);

    case state::helo:
      if (r.code != 250) {
        diag_.detail = "the server rejected both EHLO and HELO";
        return goodbye_and_fail(errc::unexpected_reply, &r);
      }
      caps_ = {};  // HELO carries no extensions, so no STARTTLS offer either
      caps_.greeting = r.lines.empty() ? "" : r.lines.front();
      return after_capabilities();

    case state::starttls:
      if (r.code == 220) {
        return go_ahead();
      }
      // 454 (TLS not available), 501, 5xx and anything else: no upgrade (RFC 3207 §4).
      diag_.detail = "the server refused STARTTLS";
      if (options_.require_tls) return goodbye_and_fail(errc::starttls_rejected, &r);
      // Opportunistic level: like Postfix's "may", carry on in plaintext and say so.
      diag_.set_peer(r.as_peer_text());
      return continue_in_plaintext();

    case state::goodbye:
    case state::goodbye_then_fail:
      return goodbye_answered();

    case state::handshaking:
    case state::finished:
      break;
  }
  return fail(errc::unexpected_reply, &r);
}

action client::after_capabilities() {
  if (tls_active_) return goodbye();
  facts_.starttls_offered = caps_.has("STARTTLS");
  if (facts_.starttls_offered) {
    state_ = state::starttls;
    return action::write("STARTTLS\r\n");
  }
  if (options_.require_tls) {
    diag_.detail = "STARTTLS is not in the server's EHLO reply";
    return goodbye_and_fail(errc::starttls_not_supported, nullptr);
  }
  // Opportunistic level: continuing in plaintext is allowed, and reported (DESIGN.md rule 4).
  return continue_in_plaintext();
}

void client::on_tls_established() {
  // Forget everything learned in plaintext (RFC 3207 §4.2); the report keeps its copy.
  caps_ = {};
  replies_ = reply_reader{};
  restart_after_tls(state::ehlo_after_tls, hello(variant_ == variant::lmtp ? "LHLO" : "EHLO"));
}

}  // namespace otls::proto::smtp
