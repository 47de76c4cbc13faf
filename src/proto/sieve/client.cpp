// ManageSieve client role through STARTTLS (RFC 5804 §1.7 capabilities, §2.2 STARTTLS, §2.3
// LOGOUT).
#include "otls/proto/sieve/client.hpp"

#include <utility>

namespace otls::proto::sieve {

client::client(client_options options) : client_base(std::move(options)) {}

action client::next() {
  if (auto a = before_reading()) return std::move(*a);
  auto r = responses_.next();
  if (!r) {
    diag_.detail = "unreadable response from the server: " + responses_.detail();
    return fail(r.error(), nullptr);
  }
  if (*r) return on_response(**r);
  // RFC 5804 §2.2: after TLS the server speaks first; a close instead is worth naming.
  if (eof_ && state_ == state::capabilities_after_tls && !responses_.mid_response()) {
    diag_.detail =
        "the server closed the connection instead of re-sending its capabilities after TLS (RFC "
        "5804 §2.2)";
    return fail(errc::unexpected_close, nullptr);
  }
  // After LOGOUT a close is the expected end (RFC 5804 §2.3); anywhere else it is a failure.
  return out_of_input(responses_.mid_response());
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
        return goodbye_and_fail(errc::service_unavailable, &r);
      }
      caps_ = r;
      const auto described = r.describe_capabilities();
      record_capabilities(described);
      if (tls_active_) return goodbye();
      facts_.starttls_offered = r.has("STARTTLS");
      if (facts_.starttls_offered) {
        state_ = state::starttls;
        return action::write("STARTTLS\r\n");
      }
      diag_.detail = "STARTTLS is not in the server's capability list";
      if (options_.require_tls) return goodbye_and_fail(errc::starttls_not_supported, nullptr);
      return continue_in_plaintext(
          "STARTTLS is not in the server's capability list: the session continued in PLAINTEXT");
    }

    case state::starttls: {
      if (r.what == status::ok) {
        // Capability lines here are not part of a STARTTLS reply (RFC 5804 §2.2): whatever they
        // say arrived in plaintext, so the exchange is not trusted any further.
        if (!r.capabilities.empty()) {
          diag_.detail = "capability lines before the OK to STARTTLS";
          return fail(errc::unexpected_reply, &r);
        }
        return go_ahead();
      }
      diag_.set_peer(r.as_peer_text());
      diag_.detail = "the server refused STARTTLS";
      if (options_.require_tls)
        return r.what == status::bye ? fail(errc::starttls_rejected, &r)
                                     : goodbye_and_fail(errc::starttls_rejected, &r);
      std::string warning = "STARTTLS refused by the server (" + r.as_peer_text().back() +
                            "): the session continued in PLAINTEXT";
      if (r.what != status::bye) return continue_in_plaintext(std::move(warning));
      // Opportunistic level, and the server said BYE and is closing: nothing is left to say.
      mark_plaintext(std::move(warning));
      state_ = state::finished;
      return action::done();
    }

    case state::capabilities_after_tls:
      if (r.what == status::ok) {
        caps_ = r;
        facts_.capabilities_after_tls = r.describe_capabilities();
        return goodbye();
      }
      diag_.detail = "the server did not re-send its capabilities after TLS";
      if (r.what == status::bye) return fail(errc::service_unavailable, &r);
      return goodbye_and_fail(errc::unexpected_reply, &r);

    case state::goodbye:
    case state::goodbye_then_fail:
      return goodbye_answered();

    case state::handshaking:
    case state::finished:
      break;
  }
  return fail(errc::unexpected_reply, &r);
}

void client::on_tls_established() {
  // RFC 5804 §2.2: the server re-sends its capabilities unasked, and the client must discard
  // those it learned in plaintext. Nothing is written here: sending CAPABILITY would desync.
  caps_ = {};
  responses_ = response_reader{};
  restart_after_tls(state::capabilities_after_tls);
}

}  // namespace otls::proto::sieve
