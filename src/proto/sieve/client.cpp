// ManageSieve client role through STARTTLS (RFC 5804 §1.7 capabilities, §2.2 STARTTLS, §2.3
// LOGOUT).
#include "otls/proto/sieve/client.hpp"

#include <utility>

namespace otls::proto::sieve {

client::client(client_options options)
    : options_(std::move(options)), tls_active_(options_.implicit_tls) {}

action client::fail(error_code ec, const response* culprit) {
  if (culprit) diag_.set_peer(culprit->as_peer_text());
  state_ = state::finished;
  pending_error_ = ec;
  return action::fail(ec);
}

// Polite refusal: LOGOUT lets the server log a clean end; the failure is reported afterwards.
action client::logout_and_fail(error_code ec, const response* culprit) {
  if (culprit) diag_.set_peer(culprit->as_peer_text());
  pending_error_ = ec;
  state_ = state::logout_then_fail;
  return action::write("LOGOUT\r\n");
}

// Opportunistic level only (DESIGN.md rule 4): say so in the facts, then end politely.
action client::continue_in_plaintext(std::string warning, bool say_logout) {
  facts_.ended_in_plaintext = true;
  facts_.warnings.push_back(std::move(warning));
  if (!say_logout) {  // the server said BYE and is closing
    state_ = state::finished;
    return action::done();
  }
  state_ = state::logout;
  return action::write("LOGOUT\r\n");
}

action client::next() {
  if (state_ == state::finished)
    return pending_error_ ? action::fail(pending_error_) : action::done();
  if (state_ == state::handshaking) return action::start_tls();
  auto r = responses_.next();
  if (!r) {
    diag_.detail = "unreadable response from the server: " + responses_.detail();
    return fail(r.error(), nullptr);
  }
  if (*r) return on_response(**r);
  if (!eof_) return action::need_more();
  // After LOGOUT a close is the expected end (RFC 5804 §2.3); anywhere else it is a failure.
  if (state_ == state::logout) {
    state_ = state::finished;
    return action::done();
  }
  if (state_ == state::logout_then_fail) return fail(pending_error_, nullptr);
  diag_.detail = responses_.mid_response()
                     ? "the server closed the connection in the middle of a response"
                     : "the server closed the connection";
  if (state_ == state::capabilities_after_tls && !responses_.mid_response())
    diag_.detail += " instead of re-sending its capabilities after TLS (RFC 5804 §2.2)";
  return fail(errc::unexpected_close, nullptr);
}

action client::on_response(const response& r) {
  switch (state_) {
    case state::greeting: {
      // The greeting is a capability response (RFC 5804 §1.7); its OK text is the banner.
      if (!r.text.empty()) facts_.banner = {r.text};
      if (r.what == status::bye) {
        diag_.detail = "the server refused service in its greeting";
        return fail(errc::service_unavailable, &r);
      }
      if (r.what == status::no) {
        diag_.detail = "the server refused service in its greeting";
        return logout_and_fail(errc::service_unavailable, &r);
      }
      caps_ = r;
      const auto described = r.describe_capabilities();
      if (tls_active_) {
        facts_.capabilities_after_tls = described;
        state_ = state::logout;
        return action::write("LOGOUT\r\n");
      }
      facts_.capabilities_before_tls = described;
      facts_.starttls_offered = r.has("STARTTLS");
      if (facts_.starttls_offered) {
        state_ = state::starttls;
        return action::write("STARTTLS\r\n");
      }
      diag_.detail = "STARTTLS is not in the server's capability list";
      if (options_.require_tls) return logout_and_fail(errc::starttls_not_supported, nullptr);
      return continue_in_plaintext(
          "STARTTLS is not in the server's capability list: the session continued in PLAINTEXT",
          true);
    }

    case state::starttls:
      if (r.what == status::ok) {
        // Capability lines here are not part of a STARTTLS reply (RFC 5804 §2.2): whatever they
        // say arrived in plaintext, so the exchange is not trusted any further.
        if (!r.capabilities.empty()) {
          diag_.detail = "capability lines before the OK to STARTTLS";
          return fail(errc::unexpected_reply, &r);
        }
        facts_.starttls_accepted = true;
        state_ = state::handshaking;
        return action::start_tls();
      }
      diag_.set_peer(r.as_peer_text());
      diag_.detail = "the server refused STARTTLS";
      if (options_.require_tls)
        return r.what == status::bye ? fail(errc::starttls_rejected, &r)
                                     : logout_and_fail(errc::starttls_rejected, &r);
      return continue_in_plaintext("STARTTLS refused by the server (" + r.as_peer_text().back() +
                                       "): the session continued in PLAINTEXT",
                                   r.what != status::bye);

    case state::capabilities_after_tls:
      if (r.what == status::ok) {
        caps_ = r;
        facts_.capabilities_after_tls = r.describe_capabilities();
        state_ = state::logout;
        return action::write("LOGOUT\r\n");
      }
      diag_.detail = "the server did not re-send its capabilities after TLS";
      if (r.what == status::bye) return fail(errc::service_unavailable, &r);
      return logout_and_fail(errc::unexpected_reply, &r);

    case state::logout:
      state_ = state::finished;
      return action::done();

    case state::logout_then_fail:
      return fail(pending_error_, nullptr);

    case state::handshaking:
    case state::finished:
      break;
  }
  return fail(errc::unexpected_reply, &r);
}

void client::on_tls_established() {
  // RFC 5804 §2.2: the server re-sends its capabilities unasked, and the client must discard
  // those it learned in plaintext. Nothing is written here: sending CAPABILITY would desync.
  tls_active_ = true;
  caps_ = {};
  responses_ = response_reader{};
  state_ = state::capabilities_after_tls;
}

}  // namespace otls::proto::sieve
