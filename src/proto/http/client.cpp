// HTTP Upgrade to TLS, client role (RFC 2817 §3.1-§3.3, §4.2; RFC 9110 §7.8, §15.2.2, §15.5.22).
#include "otls/proto/http/client.hpp"

#include <algorithm>
#include <iterator>
#include <utility>

namespace otls::proto::http {
namespace {

constexpr std::string_view framing_fields[] = {"Date", "Content-Length", "Content-Type",
                                               "Transfer-Encoding", "Keep-Alive"};

// RFC 9110 §7.2: Host is host[:port], the port only when it is not the scheme's default (80);
// IPv6 literals in brackets. A name already given as "host:port" is passed through as written.
std::string host_field(const client_options& o) {
  std::string host = o.server_name.empty() ? std::string("localhost") : o.server_name;
  const auto colons = std::count(host.begin(), host.end(), ':');
  if (colons > 1 && host.front() != '[') host = "[" + host + "]";
  if (colons == 0 || host.front() == '[') {
    if (o.server_port != 0 && o.server_port != 80) host += ":" + std::to_string(o.server_port);
  }
  return host;
}

// Fields worth reporting: what describes the server and its upgrade, not per-message framing.
std::vector<std::string> report_lines(const response& r) {
  std::vector<std::string> out{r.status_line()};
  for (const auto& f : r.fields) {
    const bool framing = std::any_of(std::begin(framing_fields), std::end(framing_fields),
                                     [&](std::string_view name) { return iequals(f.name, name); });
    if (!framing && out.size() <= 32) out.push_back(printable(f.name + ": " + f.value));
  }
  return out;
}

}  // namespace

client::client(client_options options) : client_base(std::move(options)) {}

std::string client::upgrade_request() const {
  // RFC 2817 §3.2: Upgrade is hop-by-hop, so Connection must name it. With implicit TLS (not a
  // registry scheme; kept for symmetry) the same OPTIONS goes out without the upgrade.
  if (tls_active_)
    return "OPTIONS * HTTP/1.1\r\nHost: " + host_field(options_) + "\r\nConnection: close\r\n\r\n";
  return "OPTIONS * HTTP/1.1\r\nHost: " + host_field(options_) +
         "\r\nUpgrade: TLS/1.0\r\nConnection: Upgrade\r\n\r\n";
}

action client::next() {
  if (auto a = before_reading()) return std::move(*a);
  if (state_ == state::greeting) {
    state_ = tls_active_ ? state::final_response : state::upgrade_sent;
    return action::write(upgrade_request());
  }
  for (;;) {
    auto r = responses_.next();
    if (!r) {
      diag_.detail = "the server sent something that is not an HTTP/1.1 response: " +
                     responses_.error_detail();
      return fail(r.error(), nullptr);
    }
    if (!*r) return out_of_input(responses_.mid_message());
    // Interim responses (RFC 9110 §15.2) precede the final one; a bounded number is skipped.
    const response& resp = **r;
    if (resp.status >= 100 && resp.status < 200 && resp.status != 101) {
      if (++interim_ > max_interim_responses) {
        diag_.detail = "more than " + std::to_string(max_interim_responses) +
                       " interim (1xx) responses without a final one";
        return fail(errc::unexpected_reply, &resp);
      }
      continue;
    }
    return on_response(resp);
  }
}

action client::on_response(const response& r) {
  switch (state_) {
    case state::upgrade_sent:
      return on_upgrade_answer(r);

    case state::final_response:
      if (r.status == 101) {
        diag_.detail = "the server answered 101 Switching Protocols again inside TLS";
        return fail(errc::unexpected_reply, &r);
      }
      // §3.3: the OPTIONS request is answered inside TLS; any final status completes the
      // upgrade (a server may well refuse OPTIONS * itself). Learned afresh (rule 2).
      record_capabilities(report_lines(r));
      return finish();

    default:
      break;
  }
  diag_.detail = "a response the client was not waiting for";
  return fail(errc::unexpected_reply, &r);
}

action client::on_upgrade_answer(const response& r) {
  facts_.banner = {r.status_line()};
  if (r.status == 101) {
    // RFC 9110 §7.8: the 101 names the protocol switched to; it must be the TLS we asked for.
    if (!r.upgrade_lists_tls()) {
      diag_.detail = "the server switched protocols, but not to TLS (Upgrade: " +
                     printable(r.get("Upgrade").value_or("missing")) + ")";
      return fail(errc::unexpected_reply, &r);
    }
    if (!r.lists("Connection", "upgrade")) {
      diag_.detail = "the 101 response lacks \"Connection: Upgrade\" (RFC 2817 §3.3)";
      return fail(errc::unexpected_reply, &r);
    }
    facts_.starttls_offered = true;
    record_capabilities(report_lines(r));
    // Read no further: whatever follows the 101's header is for take_leftover() (rule 1).
    return go_ahead();
  }
  record_capabilities(report_lines(r));
  if (r.status == 426) {
    // RFC 2817 §4.2 / RFC 9110 §15.5.22: the server insists on an upgrade, yet did not switch on
    // our request. Sending the same request again would only repeat the answer, so this ends
    // here: a refused upgrade when TLS is what it wants, otherwise an upgrade we cannot do.
    diag_.set_peer(r.as_peer_text());
    if (r.upgrade_lists_tls()) {
      facts_.starttls_offered = true;
      diag_.detail = "upgrade-required: the server answered 426 Upgrade Required (Upgrade: " +
                     printable(r.get("Upgrade").value_or("")) +
                     ") to an RFC 2817 upgrade request instead of 101 Switching Protocols";
      if (options_.require_tls) return fail(errc::starttls_rejected, nullptr);
      mark_plaintext("the server demanded TLS (426) but did not switch: PLAINTEXT only");
      return finish();
    }
    return not_supported(r,
                         "upgrade-not-supported: the server answered 426 Upgrade Required "
                         "but offers no TLS upgrade (Upgrade: " +
                             printable(r.get("Upgrade").value_or("missing")) + ")");
  }
  return not_supported(r, "upgrade-not-supported: the server answered " + std::to_string(r.status) +
                              " to an RFC 2817 upgrade request");
}

action client::not_supported(const response& r, std::string detail) {
  diag_.set_peer(r.as_peer_text());
  diag_.detail = std::move(detail);
  if (options_.require_tls) return fail(errc::starttls_not_supported, nullptr);
  mark_plaintext(diag_.detail + ": the session continued in PLAINTEXT");
  return finish();
}

void client::on_tls_established() {
  // §3.3: the response to the OPTIONS request comes inside TLS; a fresh parser reads it and
  // nothing learned in plaintext is kept as an after-TLS fact (rule 2).
  responses_ = response_reader{true};
  interim_ = 0;
  restart_after_tls(state::final_response);
}

}  // namespace otls::proto::http
