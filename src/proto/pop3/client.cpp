// POP3 client role through STLS (RFC 1939 §4, RFC 2449 §5, RFC 2595 §4, RFC 8314 §3.1).
#include "otls/proto/pop3/client.hpp"

#include <utility>

namespace otls::proto::pop3 {

client::client(client_options options)
    : options_(std::move(options)), tls_active_(options_.implicit_tls) {}

action client::fail(error_code ec, const response* culprit) {
  if (culprit) diag_.set_peer(culprit->as_peer_text());
  state_ = state::finished;
  pending_error_ = ec;
  return action::fail(ec);
}

// Polite refusal: QUIT lets the server log a clean end; the failure is reported afterwards.
action client::quit_and_fail(error_code ec, const response* culprit) {
  if (culprit) diag_.set_peer(culprit->as_peer_text());
  pending_error_ = ec;
  state_ = state::quit_then_fail;
  return action::write("QUIT\r\n");
}

// Opportunistic level only (DESIGN.md rule 4): say so in the facts, then end politely.
action client::continue_in_plaintext(std::string warning) {
  facts_.ended_in_plaintext = true;
  facts_.warnings.push_back(std::move(warning));
  state_ = state::quit;
  return action::write("QUIT\r\n");
}

action client::next() {
  if (state_ == state::finished)
    return pending_error_ ? action::fail(pending_error_) : action::done();
  if (state_ == state::handshaking) return action::start_tls();
  if (!pending_write_.empty()) return action::write(std::exchange(pending_write_, {}));
  auto r = responses_.next(state_ == state::capa || state_ == state::capa_after_tls);
  if (!r) {
    diag_.detail = r.error() == errc::malformed_reply
                       ? "the server sent something that is not a POP3 response"
                       : "unreadable response from the server: " + r.error().message();
    return fail(r.error(), nullptr);
  }
  if (*r) return on_response(**r);
  if (!eof_) return action::need_more();
  // After QUIT a close is the expected end (RFC 1939 §6); anywhere else it is a failure.
  if (state_ == state::quit) {
    state_ = state::finished;
    return action::done();
  }
  if (state_ == state::quit_then_fail) return fail(pending_error_, nullptr);
  diag_.detail = responses_.mid_response()
                     ? "the server closed the connection in the middle of a response"
                     : "the server closed the connection";
  return fail(errc::unexpected_close, nullptr);
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
      return quit_and_fail(errc::service_unavailable, &r);

    case state::capa:
      if (r.ok) {
        caps_ = capabilities::from_response(r);
        (tls_active_ ? facts_.capabilities_after_tls : facts_.capabilities_before_tls) =
            caps_.lines;
        capa_worked_ = !tls_active_;
        return after_capabilities();
      }
      // CAPA is an extension (RFC 2449). Without it nothing is known, and RFC 2595 §4 lets a
      // client try STLS anyway: the answer tells.
      if (tls_active_) {
        state_ = state::quit;
        return action::write("QUIT\r\n");
      }
      state_ = state::stls;
      return action::write("STLS\r\n");

    case state::stls:
      if (r.ok) {
        // A server without CAPA that accepts STLS has offered it in effect.
        facts_.starttls_offered = true;
        facts_.starttls_accepted = true;
        state_ = state::handshaking;
        return action::start_tls();
      }
      diag_.set_peer(r.as_peer_text());
      if (capa_worked_) {
        diag_.detail = "the server offered STLS in its CAPA list but refused the command";
        if (options_.require_tls) return quit_and_fail(errc::starttls_rejected, &r);
        return continue_in_plaintext("STLS refused by the server (" + r.as_peer_text().front() +
                                     "): the session continued in PLAINTEXT");
      }
      // Neither CAPA nor STLS: an old server without the upgrade, not a refused offer.
      diag_.detail = "the server implements neither CAPA nor STLS";
      if (options_.require_tls) return quit_and_fail(errc::starttls_not_supported, &r);
      return continue_in_plaintext("the server implements neither CAPA nor STLS (" +
                                   r.as_peer_text().front() +
                                   "): the session continued in PLAINTEXT");

    case state::capa_after_tls:
      if (r.ok) {
        caps_ = capabilities::from_response(r);
        facts_.capabilities_after_tls = caps_.lines;
      } else if (capa_worked_) {
        diag_.detail = "the server answered CAPA before TLS but refused it after the handshake";
        return quit_and_fail(errc::unexpected_reply, &r);
      }
      state_ = state::quit;
      return action::write("QUIT\r\n");

    case state::quit:
      // +OK, or -ERR from a server that still ends the session (RFC 1939 §6).
      state_ = state::finished;
      return action::done();

    case state::quit_then_fail:
      return fail(pending_error_, nullptr);

    case state::handshaking:
    case state::finished:
      break;
  }
  return fail(errc::unexpected_reply, &r);
}

action client::after_capabilities() {
  if (tls_active_) {
    state_ = state::quit;
    return action::write("QUIT\r\n");
  }
  facts_.starttls_offered = caps_.has("STLS");  // RFC 2595 §4: the STLS capability
  if (facts_.starttls_offered) {
    state_ = state::stls;
    return action::write("STLS\r\n");
  }
  diag_.detail = "STLS is not in the server's CAPA list";
  if (options_.require_tls) return quit_and_fail(errc::starttls_not_supported, nullptr);
  return continue_in_plaintext(
      "STLS is not in the server's CAPA list: the session continued in PLAINTEXT");
}

void client::on_tls_established() {
  // RFC 2595 §4: discard what was learned in plaintext and ask CAPA again.
  tls_active_ = true;
  caps_ = {};
  responses_ = response_reader{};
  state_ = state::capa_after_tls;
  pending_write_ = "CAPA\r\n";
}

}  // namespace otls::proto::pop3
