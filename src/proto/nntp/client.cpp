// NNTP client role through STARTTLS (RFC 3977 §5.1-5.3, RFC 4642 §2, RFC 8143).
#include "otls/proto/nntp/client.hpp"

#include <utility>

namespace otls::proto::nntp {
namespace {

constexpr int capability_list_follows = 101;  // RFC 3977 §5.2.2

}  // namespace

client::client(client_options options) : client_base(std::move(options)) {}

action client::next() {
  if (auto a = before_reading()) return std::move(*a);
  // Only CAPABILITIES is answered with a data block among the commands sent here.
  auto r = responses_.next(state_ == state::capabilities ? capability_list_follows : 0);
  if (!r) {
    diag_.detail = "unparseable response from the server (" + r.error().message() + ")";
    return fail(r.error(), nullptr);
  }
  if (*r) return on_response(**r);
  return out_of_input(responses_.mid_response());
}

action client::on_response(const response& r) {
  switch (state_) {
    case state::greeting:
      facts_.banner = {r.text};
      // RFC 3977 §5.1.1: 200 posting allowed, 201 not; both serve the session.
      if (r.code == 200 || r.code == 201) return send_line("CAPABILITIES", state::capabilities);
      // 400 (temporarily) and 502 (permanently) unavailable: the server closes at once.
      if (r.code == 400 || r.code == 502) {
        diag_.detail = "the server refused service in its greeting (RFC 3977 §5.1.1)";
        return fail(errc::service_unavailable, &r);
      }
      diag_.detail = "the greeting is not a 200 or 201 response";
      return fail(errc::unexpected_reply, &r);

    case state::capabilities:
      return on_capabilities(r);

    case state::mode_reader:
      if (r.code == 200 || r.code == 201) {
        // RFC 3977 §5.3: the capabilities change with the mode, so ask again and decide then.
        mode_switched_ = true;
        return send_line("CAPABILITIES", state::capabilities);
      }
      if (r.code == 400) {
        diag_.detail = "the server closed the session (400) in reply to MODE READER";
        return fail(errc::service_unavailable, &r);
      }
      // 502: reading service unavailable (RFC 3977 §5.3.2); the transit mode has no STARTTLS.
      return no_upgrade(errc::starttls_not_supported, &r,
                        "the server's transit mode does not offer STARTTLS and it refused MODE "
                        "READER (RFC 3977 §5.3)",
                        "MODE READER refused (" + r.as_peer_text().front() +
                            "): the server's transit mode does not offer STARTTLS");

    case state::starttls:
      return on_starttls(r);

    case state::goodbye:
    case state::goodbye_then_fail:
      return goodbye_answered();

    case state::handshaking:
    case state::finished:
      break;
  }
  return fail(errc::unexpected_reply, &r);
}

action client::on_capabilities(const response& r) {
  if (r.code == capability_list_follows) {
    caps_ = capability_list::from_block(r.block);
    record_capabilities(caps_.lines);
    if (tls_active_) return goodbye();
    legacy_ = false;
    return decide();
  }
  if (r.code == 400) {
    diag_.detail = "the server closed the session (400) in reply to CAPABILITIES";
    return fail(errc::service_unavailable, &r);
  }
  // 500/501: a server older than RFC 3977 without CAPABILITIES. Servers of that age still
  // implement STARTTLS (Kerio Connect and others in openssl#7722, where s_client failed), so
  // try it without an offer. 480: the server wants AUTHINFO even for CAPABILITIES (seen at
  // Usenet providers); STARTTLS is what protects that login, so try it too. After TLS such a
  // server has nothing to list, which is fine.
  if (r.code == 500 || r.code == 501 || r.code == 480) {
    caps_ = {};
    if (tls_active_) return goodbye();
    legacy_ = true;
    return send_line("STARTTLS", state::starttls);
  }
  diag_.detail = "the server rejected CAPABILITIES";
  return goodbye_and_fail(errc::unexpected_reply, &r);
}

action client::decide() {
  facts_.starttls_offered = caps_.has("STARTTLS");
  if (facts_.starttls_offered) return send_line("STARTTLS", state::starttls);
  // A mode-switching server (RFC 3977 §5.3) in transit mode, like INN's innd for peers listed
  // in incoming.conf: STARTTLS lives in the reader mode (nnrpd), so switch once and ask again.
  if (caps_.has("MODE-READER") && !caps_.has("READER") && !mode_switched_)
    return send_line("MODE READER", state::mode_reader);
  return no_upgrade(errc::starttls_not_supported, nullptr,
                    "STARTTLS is not in the server's CAPABILITIES list (RFC 4642 §2.1)", {});
}

action client::on_starttls(const response& r) {
  if (r.code == 382) {
    // Rule 1: start_tls now; any byte after the 382 line stays unread for take_leftover().
    return go_ahead();
  }
  if (r.code == 400) {
    diag_.detail = "the server closed the session (400) in reply to STARTTLS";
    return fail(errc::service_unavailable, &r);
  }
  // 401 names the capability that changes to the right mode (RFC 3977 §3.2.1); innd answers
  // STARTTLS with "401 MODE-READER". Switch once, then decide on the reader's list.
  if (r.code == 401 && !mode_switched_ && iequals(first_word(r.text), "MODE-READER"))
    return send_line("MODE READER", state::mode_reader);
  const std::string said = r.as_peer_text().front();
  if (legacy_ && (r.code == 500 || r.code == 501 || r.code == 502))
    return no_upgrade(errc::starttls_not_supported, &r,
                      "the server gave no CAPABILITIES list (RFC 3977) and does not implement "
                      "STARTTLS (RFC 4642)",
                      "no CAPABILITIES list, and STARTTLS is not implemented (" + said + ")");
  // 580 (TLS temporarily unavailable), 502 (not now), 483 and anything else (RFC 4642 §2.2.2).
  return no_upgrade(
      errc::starttls_rejected, &r, "the server refused STARTTLS (RFC 4642 §2.2.2)",
      legacy_ ? "STARTTLS tried without a CAPABILITIES list and refused (" + said + ")" : "");
}

// The upgrade will not happen. Required: QUIT and fail with a named error. Opportunistic
// (level may): carry on in plaintext, say so (DESIGN.md rule 4) and end politely.
action client::no_upgrade(error_code ec, const response* culprit, std::string detail,
                          std::string warning) {
  diag_.detail = std::move(detail);
  if (options_.require_tls) return goodbye_and_fail(ec, culprit);
  if (culprit) diag_.set_peer(culprit->as_peer_text());
  return continue_in_plaintext(std::move(warning));
}

void client::on_tls_established() {
  // Forget everything learned in plaintext (RFC 4642 §2.2.2: the client MUST discard it and
  // SHOULD ask CAPABILITIES again); the report keeps its copy.
  caps_ = {};
  responses_ = response_reader{};
  restart_after_tls(state::capabilities, "CAPABILITIES\r\n");
}

}  // namespace otls::proto::nntp
