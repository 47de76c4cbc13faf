// HTTP Upgrade to TLS, server role (RFC 2817 §3.2-§3.3, §4.2; RFC 9110 §7.6.1, §7.8, §9.3.7,
// §15.2.2, §15.5.22), hardened against CVE-2025-49812 (see server.hpp).
#include "otls/proto/http/server.hpp"

#include <utility>

namespace otls::proto::http {
namespace {

constexpr std::string_view allow = "OPTIONS, GET, HEAD";

// A response without its last CRLF: server_base's close_with/error_reply/go_ahead append it,
// so it ends the header (no body) or is the body's own closing CRLF, counted in Content-Length.
// `fields` end in CRLF; `body` is text without its final line break; HEAD gets no body.
std::string http_response(std::string_view status_line, std::string_view fields,
                          std::string_view body = {}, bool head = false) {
  std::string out =
      "HTTP/1.1 " + std::string(status_line) + "\r\nServer: otls\r\n" + std::string(fields) +
      "Content-Length: " + std::to_string(body.empty() ? 0 : body.size() + 2) + "\r\n";
  if (!body.empty() && !head) out += "\r\n" + std::string(body);
  return out;
}

std::string upgrade_required(bool last) {
  // RFC 2817 §4.2 example: both tokens, TLS first; Connection names Upgrade (hop-by-hop).
  return http_response("426 Upgrade Required",
                       std::string("Upgrade: TLS/1.0, HTTP/1.1\r\nConnection: Upgrade") +
                           (last ? ", close" : "") + "\r\nContent-Type: text/plain\r\n",
                       "TLS is required: send OPTIONS * with Upgrade: TLS/1.0 (RFC 2817)");
}

}  // namespace

server::server(server_options options) : server_base(std::move(options)) {
  state_ = state::request;
}

std::string server::too_many_errors_reply(std::string) const {
  // The refusal that reaches max_errors is the same 426, but it closes the connection.
  return upgrade_required(true);
}

action server::next() {
  switch (state_) {
    case state::starttls_pending:
      return action::start_tls();
    case state::answer_options:
      // §3.3: the OPTIONS * that asked for the upgrade is answered inside TLS, and nothing else.
      return close_with(
          http_response("200 OK", "Allow: " + std::string(allow) + "\r\nConnection: close\r\n"),
          {});
    case state::closing:
    case state::finished:
      return ended();
    case state::greet:
    case state::request:
      break;
  }
  auto r = requests_.next();
  if (!r) {
    diag_.detail =
        "the client sent something that is not an HTTP/1.1 request: " + requests_.error_detail();
    const bool too_large = requests_.error_detail().find("larger") != std::string::npos;
    return close_with(
        http_response(too_large ? "431 Request Header Fields Too Large" : "400 Bad Request",
                      "Connection: close\r\n"),
        r.error());
  }
  if (*r) return on_request(**r);
  return out_of_input(requests_.mid_message());
}

bool server::asks_for_tls_upgrade(const request& r) const {
  // RFC 2817 §3.1-§3.2: OPTIONS * is the request that upgrades without asking for a resource;
  // upgrading any other request would answer it inside TLS although it arrived in plaintext,
  // which is the CVE-2025-49812 desynchronisation. RFC 9110 §7.8: Upgrade in HTTP/1.0 is
  // ignored, and Connection must name it.
  return r.method == "OPTIONS" && r.target == "*" && r.version == 11 && r.upgrade_lists_tls() &&
         r.lists("Connection", "upgrade");
}

action server::on_request(const request& r) {
  if (!tls_active_ && options_.tls_available && asks_for_tls_upgrade(r)) {
    // Rule 3: the 101 goes out first; the driver then upgrades and discards whatever the client
    // pipelined behind the request (take_leftover()).
    facts_.starttls_offered = facts_.starttls_accepted = true;
    return go_ahead(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: TLS/1.0, HTTP/1.1\r\nConnection: "
        "Upgrade\r\n");
  }
  if (!tls_active_ && options_.tls_available && options_.starttls_required) {
    diag_.detail = "plaintext request refused with 426: " + r.request_line();
    return error_reply(upgrade_required(false));
  }
  // Optional upgrade (or none possible, or already inside implicit TLS): a small answer, then
  // close, so no second request is ever read on this connection.
  // RFC 9110 §7.8: Upgrade in a 200 tells the client which upgrade it could ask for.
  const bool can_upgrade = !tls_active_ && options_.tls_available;
  std::string fields = "Allow: " + std::string(allow) + "\r\nContent-Type: text/plain\r\n";
  if (can_upgrade) fields += "Upgrade: TLS/1.0\r\n";
  fields += "Connection: close\r\n";
  const std::string_view body =
      can_upgrade ? "otls: send OPTIONS * with Upgrade: TLS/1.0 for TLS (RFC 2817)"
                  : "otls: this connection stays as it is";
  return close_with(http_response("200 OK", fields, body, r.method == "HEAD"), {});
}

void server::on_tls_established() {
  // Nothing read before the handshake is used: the reader starts afresh (its leftover was
  // already taken and discarded by the driver).
  tls_active_ = true;
  requests_ = request_reader{};
  state_ = state::answer_options;
}

}  // namespace otls::proto::http
