// POP3 client role through STLS (RFC 1939 §4, RFC 2449 §5, RFC 2595 §4, RFC 8314 §3.1).
#include "otls/proto/pop3/client.hpp"

#include <utility>

namespace otls::proto::pop3 {

client::client(client_options options) : client_base(std::move(options)) {}

action client::next() {
  if (auto a = before_reading()) return std::move(*a);
  auto r = responses_.next(state_ == state::capa || state_ == state::capa_after_tls);
  if (!r) {
    diag_.detail = r.error() == errc::malformed_reply
                       ? "the server sent something that is not a POP3 response"
                       : "unreadable response from the server: " + r.error().message();
    return fail(r.error(), nullptr);
  }
  if (*r) return on_response(**r);
  // After QUIT a close is the expected end (RFC 1939 §6); anywhere else it is a failure.
  return out_of_input(responses_.mid_response());
}

action client::on_response(const response& r) {
  switch (state_) {
    case state::greeting:
      facts_.banner = {r.text};
      if (r.ok) {
        state_ = state::capa;
        return action::write("CAPA\r\n");
      }
      // RFC 1939 §4 greets with +OK only; a -ERR greeting turns the client away.
      diag_.detail = "the server refused service in its greeting";
      return goodbye_and_fail(errc::service_unavailable, &r);

    case state::capa:
      if (r.ok) {
        caps_ = capabilities::from_response(r);
        record_capabilities(caps_.lines);
        capa_worked_ = !tls_active_;
        return after_capabilities();
      }
      // CAPA is an extension (RFC 2449). Without it nothing is known, and RFC 2595 §4 lets a
      // client try STLS anyway: the answer tells.
      if (tls_active_) return goodbye();
      state_ = state::stls;
      return action::write("STLS\r\n");

    case state::stls:
      if (r.ok) {
        // A server without CAPA that accepts STLS has offered it in effect.
        facts_.starttls_offered = true;
        return go_ahead();
      }
      diag_.set_peer(r.as_peer_text());
      if (capa_worked_) {
        diag_.detail = "the server offered STLS in its CAPA list but refused the command";
        if (options_.require_tls) return goodbye_and_fail(errc::starttls_rejected, &r);
        return continue_in_plaintext("STLS refused by the server (" + r.as_peer_text().front() +
                                     "): the session continued in PLAINTEXT");
      }
      // Neither CAPA nor STLS: an old server without the upgrade, not a refused offer.
      diag_.detail = "the server implements neither CAPA nor STLS";
      if (options_.require_tls) return goodbye_and_fail(errc::starttls_not_supported, &r);
      return continue_in_plaintext("the server implements neither CAPA nor STLS (" +
                                   r.as_peer_text().front() +
                                   "): the session continued in PLAINTEXT");

    case state::capa_after_tls:
      if (r.ok) {
        caps_ = capabilities::from_response(r);
        facts_.capabilities_after_tls = caps_.lines;
      } else if (capa_worked_) {
        diag_.detail = "the server answered CAPA before TLS but refused it after the handshake";
        return goodbye_and_fail(errc::unexpected_reply, &r);
      }
      return goodbye();

    case state::goodbye:
    case state::goodbye_then_fail:
      // +OK, or -ERR from a server that still ends the session (RFC 1939 §6).
      return goodbye_answered();

    case state::handshaking:
    case state::finished:
      break;
  }
  return fail(errc::unexpected_reply, &r);
}

action client::after_capabilities() {
  if (tls_active_) return goodbye();
  facts_.starttls_offered = caps_.has("STLS");  // RFC 2595 §4: the STLS capability
  if (facts_.starttls_offered) {
    state_ = state::stls;
    return action::write("STLS\r\n");
  }
  diag_.detail = "STLS is not in the server's CAPA list";
  if (options_.require_tls) return goodbye_and_fail(errc::starttls_not_supported, nullptr);
  return continue_in_plaintext(
      "STLS is not in the server's CAPA list: the session continued in PLAINTEXT");
}

void client::on_tls_established() {
  // RFC 2595 §4: discard what was learned in plaintext and ask CAPA again.
  caps_ = {};
  responses_ = response_reader{};
  restart_after_tls(state::capa_after_tls, "CAPA\r\n");
}

}  // namespace otls::proto::pop3
