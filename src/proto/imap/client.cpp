// IMAP client role through STARTTLS (RFC 9051 §6.1.1, §6.2.1, §7.1; RFC 3501; RFC 2595 §3.1).
#include "otls/proto/imap/client.hpp"

#include <cstdio>
#include <utility>

namespace otls::proto::imap {

client::client(client_options options)
    : client_base(std::move(options)),
      // Bare LF is accepted in responses, as in the SMTP client: refusing it gains nothing.
      frames_(response_limits, core::line_ending::accept_bare_lf) {}

// Tags a001, a002, ... across the whole session: unique per connection (RFC 9051 §2.2.1).
std::string client::tagged(std::string_view name) {
  char tag[16];
  std::snprintf(tag, sizeof tag, "a%03u", ++tag_counter_);
  tag_ = tag;
  return tag_ + " " + std::string(name) + "\r\n";
}

action client::send(std::string_view name, state next) {
  state_ = next;
  return action::write(tagged(name));
}

action client::next() {
  if (auto a = before_reading()) return std::move(*a);
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
  // After LOGOUT a close is an expected end (RFC 9051 §6.1.3); elsewhere not.
  return out_of_input(frames_.buffered() > 0);
}

void client::learn_capabilities(std::vector<std::string> caps) {
  caps_ = std::move(caps);
  record_capabilities(caps_);
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
    if (caps) learn_capabilities(std::move(*caps));
    diag_.set_peer(r.as_peer_text());
    if (options_.require_tls) {
      diag_.detail =
          "PREAUTH greeting on a cleartext connection: the session is already authenticated, so "
          "STARTTLS is impossible; closed without a command as RFC 9051 §7.1.4 requires";
      return fail(errc::preauth_plaintext, &r);
    }
    return continue_in_plaintext(
        "PREAUTH greeting in plaintext: the session is authenticated without TLS; STARTTLS is "
        "impossible");
  }
  // OK, or PREAUTH inside implicit TLS (legitimate there). Capabilities in the greeting's
  // response code save a round trip (RFC 9051 §7.1); otherwise ask.
  if (caps) {
    learn_capabilities(std::move(*caps));
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
      if (saying_goodbye()) return std::nullopt;
      // The server is closing the connection (RFC 9051 §7.1.5).
      diag_.detail = "the server ended the session (BYE)";
      return fail(errc::service_unavailable, &r);
    }
    // Capabilities seen between STARTTLS and its tagged OK are plaintext ones: ignored.
    if (state_ == state::capability)
      if (auto caps = capabilities_of(r)) learn_capabilities(std::move(*caps));
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
        return goodbye_and_fail(errc::unexpected_reply, &r);
      }
      if (auto caps = capabilities_of(r)) learn_capabilities(std::move(*caps));
      return capabilities_known();

    case state::starttls:
      if (r.keyword == "OK") {
        // Go ahead: stop reading here (DESIGN.md rule 1). A [CAPABILITY] code in this OK came
        // in plaintext and is not used (RFC 9051 §6.2.1: capabilities are asked again).
        return go_ahead();
      }
      diag_.detail = "the server refused STARTTLS";
      if (options_.require_tls) return goodbye_and_fail(errc::starttls_rejected, &r);
      // Opportunistic level: carry on in plaintext and say so (DESIGN.md rule 4).
      diag_.set_peer(r.as_peer_text());
      return continue_in_plaintext();

    case state::goodbye:
    case state::goodbye_then_fail:
      return goodbye_answered();

    case state::greeting:
    case state::handshaking:
    case state::finished:
      break;
  }
  return fail(errc::unexpected_reply, &r);
}

action client::capabilities_known() {
  if (tls_active_) return goodbye();
  // LOGINDISABLED (RFC 9051 §6.2.3) stays in the recorded list for the report.
  facts_.starttls_offered = has_capability(caps_, "STARTTLS");
  if (facts_.starttls_offered) return send("STARTTLS", state::starttls);
  if (options_.require_tls) {
    diag_.detail = "STARTTLS is not in the server's capabilities";
    return goodbye_and_fail(errc::starttls_not_supported, nullptr);
  }
  return continue_in_plaintext();
}

void client::on_tls_established() {
  // Forget everything learned in plaintext and ask again (RFC 9051 §6.2.1, RFC 2595 §3.1);
  // the report keeps its copy of the pre-TLS list.
  caps_.clear();
  frames_ = frame_reader(response_limits, core::line_ending::accept_bare_lf);
  restart_after_tls(state::capability, tagged("CAPABILITY"));
}

}  // namespace otls::proto::imap
