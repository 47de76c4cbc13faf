// IMAP client role through STARTTLS (RFC 9051 §6.1.1, §6.2.1, §7.1; RFC 3501; RFC 2595 §3.1).
#include "otls/proto/imap/client.hpp"

#include <cstdio>
#include <utility>

namespace otls::proto::imap {

client::client(client_options options)
    : options_(std::move(options)),
      // Bare LF is accepted in responses, as in the SMTP client: refusing it gains nothing.
      frames_(response_limits, core::line_ending::accept_bare_lf),
      tls_active_(options_.implicit_tls) {}

action client::fail(error_code ec, const response* culprit) {
  if (culprit) diag_.set_peer(culprit->as_peer_text());
  state_ = state::finished;
  pending_error_ = ec;
  return action::fail(ec);
}

// Polite refusal: LOGOUT lets the server log a clean end, then the failure is reported.
action client::logout_and_fail(error_code ec, const response* culprit) {
  if (culprit) diag_.set_peer(culprit->as_peer_text());
  pending_error_ = ec;
  return send("LOGOUT", state::logout_then_fail);
}

// Tags a001, a002, ... across the whole session: unique per connection (RFC 9051 §2.2.1).
action client::send(std::string_view name, state next) {
  char tag[16];
  std::snprintf(tag, sizeof tag, "a%03u", ++tag_counter_);
  tag_ = tag;
  state_ = next;
  return action::write(tag_ + " " + std::string(name) + "\r\n");
}

action client::next() {
  if (state_ == state::finished)
    return pending_error_ ? action::fail(pending_error_) : action::done();
  if (state_ == state::handshaking) return action::start_tls();
  if (!pending_write_.empty()) return action::write(std::exchange(pending_write_, {}));
  for (;;) {
    auto f = frames_.next();
    if (!f) {
      diag_.detail = "unparseable response from the server (" + f.error().message() + ")";
      return fail(f.error(), nullptr);
    }
    if (!*f) break;
    std::string line = (*f)->text;  // the peer's words, should parsing fail
    auto r = parse_response(std::move(**f));
    if (!r) {
      diag_.detail = "malformed response from the server";
      diag_.set_peer({std::move(line)});
      return fail(r.error(), nullptr);
    }
    // Untagged data needs no answer: read on, the completion may already be buffered.
    if (auto a = on_response(*r)) return std::move(*a);
  }
  if (!eof_) return action::need_more();
  // The server closed. After LOGOUT that is an expected end (RFC 9051 §6.1.3); elsewhere not.
  if (state_ == state::logout) {
    state_ = state::finished;
    return action::done();
  }
  if (state_ == state::logout_then_fail) return fail(pending_error_, nullptr);
  diag_.detail = frames_.buffered() ? "the server closed the connection in the middle of a response"
                                    : "the server closed the connection";
  return fail(errc::unexpected_close, nullptr);
}

void client::record_capabilities(std::vector<std::string> caps) {
  caps_ = std::move(caps);
  (tls_active_ ? facts_.capabilities_after_tls : facts_.capabilities_before_tls) = caps_;
}

action client::on_greeting(const response& r) {
  // greeting = "*" SP (resp-cond-auth / resp-cond-bye) CRLF (RFC 9051 §9).
  if (r.type != response::kind::untagged ||
      (r.keyword != "OK" && r.keyword != "PREAUTH" && r.keyword != "BYE")) {
    diag_.detail = "the greeting is not an untagged OK, PREAUTH or BYE";
    return fail(errc::unexpected_reply, &r);
  }
  facts_.banner = {r.text};
  if (r.keyword == "BYE") {
    // The server turns us away and closes (RFC 9051 §7.1.5); nothing is left to say.
    diag_.detail = "the server refused service in its greeting (BYE)";
    return fail(errc::service_unavailable, &r);
  }
  auto caps = capabilities_of(r);
  if (r.keyword == "PREAUTH" && !tls_active_) {
    // PREAUTH moves the session to the authenticated state, where STARTTLS is not allowed:
    // the upgrade is impossible, which is the "NO STARTTLS" stripping attack when a meddler
    // forged it. A client that requires TLS MUST close (RFC 9051 §7.1.4, §6.2.1).
    if (caps) record_capabilities(std::move(*caps));
    diag_.set_peer(r.as_peer_text());
    if (options_.require_tls) {
      diag_.detail =
          "PREAUTH greeting on a cleartext connection: the session is already authenticated, so "
          "STARTTLS is impossible; closed without a command as RFC 9051 §7.1.4 requires";
      return fail(errc::preauth_plaintext, &r);
    }
    facts_.warnings.push_back(
        "PREAUTH greeting in plaintext: the session is authenticated without TLS; STARTTLS is "
        "impossible");
    facts_.ended_in_plaintext = true;
    return logout();
  }
  // OK, or PREAUTH inside implicit TLS (legitimate there). Capabilities in the greeting's
  // response code save a round trip (RFC 9051 §7.1); otherwise ask.
  if (caps) {
    record_capabilities(std::move(*caps));
    return capabilities_known();
  }
  return send("CAPABILITY", state::capability);
}

std::optional<action> client::on_response(const response& r) {
  if (state_ == state::greeting) return on_greeting(r);
  if (r.type == response::kind::continuation) {
    diag_.detail = "a continuation request, but no command of ours takes one";
    return fail(errc::unexpected_reply, &r);
  }
  if (r.type == response::kind::untagged) {
    if (r.keyword == "BYE") {
      if (state_ == state::logout || state_ == state::logout_then_fail) return std::nullopt;
      // The server is closing the connection (RFC 9051 §7.1.5).
      diag_.detail = "the server ended the session (BYE)";
      return fail(errc::service_unavailable, &r);
    }
    // Capabilities seen between STARTTLS and its tagged OK are plaintext ones: ignored.
    if (state_ == state::capability)
      if (auto caps = capabilities_of(r)) record_capabilities(std::move(*caps));
    return std::nullopt;  // other untagged data (ALERT, ID, ...) changes nothing here
  }
  if (r.tag != tag_) {
    diag_.detail = "a tagged response to a command that was not sent";
    return fail(errc::unexpected_reply, &r);
  }
  switch (state_) {
    case state::capability:
      if (r.keyword != "OK") {
        diag_.detail = "the server refused CAPABILITY";
        return logout_and_fail(errc::unexpected_reply, &r);
      }
      if (auto caps = capabilities_of(r)) record_capabilities(std::move(*caps));
      return capabilities_known();

    case state::starttls:
      if (r.keyword == "OK") {
        // Go ahead: stop reading here (DESIGN.md rule 1). A [CAPABILITY] code in this OK came
        // in plaintext and is not used (RFC 9051 §6.2.1: capabilities are asked again).
        facts_.starttls_accepted = true;
        state_ = state::handshaking;
        return action::start_tls();
      }
      diag_.detail = "the server refused STARTTLS";
      if (options_.require_tls) return logout_and_fail(errc::starttls_rejected, &r);
      // Opportunistic level: carry on in plaintext and say so (DESIGN.md rule 4).
      diag_.set_peer(r.as_peer_text());
      facts_.ended_in_plaintext = true;
      return logout();

    case state::logout:
      state_ = state::finished;
      return action::done();

    case state::logout_then_fail:
      return fail(pending_error_, nullptr);

    case state::greeting:
    case state::handshaking:
    case state::finished:
      break;
  }
  return fail(errc::unexpected_reply, &r);
}

action client::capabilities_known() {
  if (tls_active_) return logout();
  // LOGINDISABLED (RFC 9051 §6.2.3) stays in the recorded list for the report.
  facts_.starttls_offered = has_capability(caps_, "STARTTLS");
  if (facts_.starttls_offered) return send("STARTTLS", state::starttls);
  if (options_.require_tls) {
    diag_.detail = "STARTTLS is not in the server's capabilities";
    return logout_and_fail(errc::starttls_not_supported, nullptr);
  }
  facts_.ended_in_plaintext = true;
  return logout();
}

std::string client::take_leftover() {
  return frames_.take_leftover();
}

void client::on_tls_established() {
  // Forget everything learned in plaintext and ask again (RFC 9051 §6.2.1, RFC 2595 §3.1);
  // the report keeps its copy of the pre-TLS list.
  tls_active_ = true;
  caps_.clear();
  frames_ = frame_reader(response_limits, core::line_ending::accept_bare_lf);
  pending_write_ = send("CAPABILITY", state::capability).bytes;
}

}  // namespace otls::proto::imap
