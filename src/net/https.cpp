// The MTA-STS policy fetch (RFC 8461 §3.3): one HTTPS GET over Boost.Beast, PKIX-verified with
// SNI (RFC 6066 §3, RFC 6125), no redirects, bounded in size and by one deadline for it all.
#include "otls/net/https.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string_view>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "otls/net/error.hpp"

namespace otls::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using steady = std::chrono::steady_clock;
// beast::tcp_stream under TLS: its expiry, set once to the fetch's deadline, bounds every read
// and write the handshake, request and response make, so a peer that trickles bytes slowly
// still runs into the deadline (a per-read timeout would be reset by each byte).
using https_stream = asio::ssl::stream<beast::tcp_stream>;

constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);
constexpr std::uint32_t header_limit = 8 * 1024;  // a policy host's headers are a few lines
constexpr std::string_view user_agent = "otls/0.1";
// The close_notify exchange is a courtesy: a peer that never answers must not keep us.
constexpr duration shutdown_limit{250};

std::string size_text(std::size_t bytes) {
  return bytes % 1024 == 0 ? std::to_string(bytes / 1024) + " KiB"
                           : std::to_string(bytes) + " bytes";
}

// Nothing we put on the request line or in Host may break the message framing (request
// smuggling through a crafted policy host name or target).
bool safe_for_request(std::string_view text) {
  for (const unsigned char c : text)
    if (c <= 0x20 || c >= 0x7f) return false;
  return !text.empty();
}

// The Host header: an IPv6 literal needs its brackets (RFC 9110 §7.2, RFC 3986 §3.2.2).
std::string host_header(const std::string& host) {
  return host.find(':') != std::string::npos && host.front() != '[' ? "[" + host + "]" : host;
}

// The first bytes the peer sent, printable, for diag.peer_text when its reply was not HTTP.
std::string printable_prefix(const beast::flat_buffer& buffer) {
  const auto data = buffer.data();
  std::string_view bytes(static_cast<const char*>(data.data()), data.size());
  bytes = bytes.substr(0, std::min(bytes.find_first_of("\r\n"), std::size_t{120}));
  std::string text;
  for (const char c : bytes)
    text +=
        (static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f) ? c : '?';
  return text;
}

class fetch {
 public:
  fetch(std::string host, std::string target, https_settings settings, diagnostics& diag)
      : host_(std::move(host)),
        target_(std::move(target)),
        settings_(std::move(settings)),
        diag_(diag),
        deadline_(steady::now() + settings_.timeout) {}

  awaitable<result<https_response>> run() {
    if (target_.empty() || target_.front() != '/') target_.insert(0, "/");
    if (!safe_for_request(host_) || !safe_for_request(target_)) {
      diag_.detail = "refusing to request https://" + host_ + target_ +
                     ": the host or path contains spaces or control characters";
      co_return errc::http_failure;
    }
    auto context = tls::make_client_context(settings_.tls);
    if (!context) {
      diag_.detail = context.error().message() + " (" + settings_.tls.ca_file + ")";
      co_return context.error();
    }
    auto socket = co_await connect();
    if (!socket) co_return socket.error();

    https_stream stream(beast::tcp_stream(std::move(*socket)), *context);
    stream.next_layer().expires_at(deadline_);
    auto response = co_await exchange(stream);
    // Only a session that came up verified gets a close_notify; after a failure (possibly the
    // deadline, which already closed the socket) there is nothing to be polite to.
    if (response) co_await shutdown(stream);
    error_code ignored;
    stream.next_layer().socket().close(ignored);
    co_return response;
  }

 private:
  std::string url() const { return "https://" + host_header(host_) + target_; }

  duration remaining() const {
    return std::chrono::duration_cast<duration>(deadline_ - steady::now());
  }

  bool expired(const error_code& ec) const {
    return ec == beast::error::timeout || steady::now() >= deadline_;
  }

  error_code timed_out(std::string_view while_doing) {
    diag_.detail = url() + " did not answer within " + std::to_string(settings_.timeout.count()) +
                   " ms (" + std::string(while_doing) + ")";
    return errc::timeout;
  }

  // Each address in turn, every attempt bounded by what is left of the deadline, so the
  // addresses together cannot exceed it.
  awaitable<result<tcp::socket>> connect() {
    std::vector<connect_attempt> attempts;
    for (const auto& endpoint : settings_.endpoints) {
      if (remaining() <= duration::zero()) co_return timed_out("connecting");
      const std::vector<tcp::endpoint> one{endpoint};
      auto socket = co_await connect_first(one, remaining(), attempts);
      if (socket) co_return socket;
    }
    if (attempts.empty()) {
      diag_.detail = "no address to connect to for " + host_;
      co_return errc::connect_failure;
    }
    if (attempts.back().error == errc::timeout || steady::now() >= deadline_)
      co_return timed_out("connecting to " + attempts.back().address);
    diag_.detail = "cannot connect to " + host_ + ":";
    for (const auto& attempt : attempts)
      diag_.detail += " " + attempt.address + " (" + attempt.error.message() + ")";
    co_return errc::connect_failure;
  }

  // Handshake and verify, then one GET and its response.
  awaitable<result<https_response>> exchange(https_stream& stream) {
    if (const auto ec = tls::prepare_client(stream.native_handle(), settings_.tls)) {
      diag_.detail = "cannot set up TLS for " + host_ + ": " + ec.message();
      co_return ec;
    }
    const auto handshaken = co_await stream.async_handshake(https_stream::client, nothrow);
    if (const error_code ec = std::get<0>(handshaken)) {
      if (expired(ec)) co_return timed_out("TLS handshake");
      std::string detail;
      const auto classified = tls::classify_handshake_error(ec, detail);
      diag_.detail = "TLS handshake with " + host_ + " failed" +
                     (detail.empty() ? std::string() : ": " + detail);
      co_return classified;
    }
    // RFC 8461 §3.3: the policy host's certificate must be valid for the host name and chain
    // to a trusted root; anything less is the caller's sts-webpki-invalid.
    const auto facts = tls::inspect(stream.native_handle(), settings_.tls);
    if (const auto ec = tls::verification_error(facts.verify)) {
      diag_.detail = url() + ": " + ec.message() +
                     (facts.verify.error.empty() ? std::string() : ": " + facts.verify.error);
      co_return ec;
    }

    http::request<http::empty_body> request(http::verb::get, target_, 11);
    request.set(http::field::host, host_header(host_));
    request.set(http::field::user_agent, user_agent);
    // One request per connection, and the server knows it: no keep-alive to wind down.
    request.set(http::field::connection, "close");
    const auto written = co_await http::async_write(stream, request, nothrow);
    if (const error_code ec = std::get<0>(written)) co_return read_error(ec, "sending the request");

    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.header_limit(header_limit);
    // The body limit is applied once the status is known: a 404 page larger than a policy is
    // still a 404 (we do not read its body), not an oversized policy.
    parser.body_limit(boost::none);
    const auto header_read = co_await http::async_read_header(stream, buffer, parser, nothrow);
    if (const error_code ec = std::get<0>(header_read)) {
      if (!expired(ec) && buffer.size() > 0) diag_.set_peer({printable_prefix(buffer)});
      co_return read_error(ec, "reading the response header");
    }

    https_response response;
    const auto& head = parser.get();
    response.status = head.result_int();
    response.content_type = std::string(head[http::field::content_type]);
    // RFC 8461 §3.3: redirects are not followed; the Location is kept only to be reported.
    if (response.status / 100 == 3 && head.find(http::field::location) != head.end())
      response.location = std::string(head[http::field::location]);
    if (response.status != 200) co_return response;

    if (const auto length = parser.content_length(); length && *length > settings_.body_limit)
      co_return too_large();
    parser.body_limit(settings_.body_limit);
    const auto body_read = co_await http::async_read(stream, buffer, parser, nothrow);
    if (const error_code ec = std::get<0>(body_read)) co_return read_error(ec, "reading the body");
    response.body = std::move(parser.get().body());
    co_return response;
  }

  error_code too_large() {
    diag_.detail = url() + ": the policy is larger than " + size_text(settings_.body_limit);
    return errc::http_failure;
  }

  error_code read_error(const error_code& ec, std::string_view while_doing) {
    if (expired(ec)) return timed_out(while_doing);
    if (ec == http::error::body_limit) return too_large();
    if (ec == http::error::header_limit) {
      diag_.detail = url() + ": the response header is larger than " + size_text(header_limit);
      return errc::http_failure;
    }
    if (ec == http::error::end_of_stream || ec == http::error::partial_message) {
      diag_.detail = url() + ": the server closed the connection before a complete response";
      return errc::http_failure;
    }
    if (ec.category() == http::make_error_code(http::error::bad_version).category()) {
      diag_.detail = url() + ": not a valid HTTP response (" + ec.message() + ")";
      return errc::http_failure;
    }
    // A TCP close without close_notify where the response was not yet complete: an attacker
    // can cut a TLS stream this way, so the truncated policy is not used.
    if (ec == asio::ssl::error::stream_truncated) {
      diag_.detail = url() + ": the connection ended without TLS close_notify before the " +
                     "response was complete (truncated)";
      return errc::http_failure;
    }
    diag_.detail = url() + ": the connection was lost while " + std::string(while_doing) + " (" +
                   ec.message() + ")";
    return errc::connection_lost;
  }

  // close_notify (RFC 8446 §6.1), bounded by the shorter of shutdown_limit and what is left.
  awaitable<void> shutdown(https_stream& stream) {
    const auto left = remaining();
    if (left <= duration::zero()) co_return;
    stream.next_layer().expires_after(std::min(left, shutdown_limit));
    const auto closed = co_await stream.async_shutdown(nothrow);
    (void)closed;  // the response is complete; how the peer ends the session changes nothing
  }

  std::string host_;
  std::string target_;
  https_settings settings_;
  diagnostics& diag_;
  steady::time_point deadline_;
};

}  // namespace

awaitable<result<https_response>> https_get(std::string host, std::string target,
                                            https_settings settings, diagnostics& diag) {
  fetch f(std::move(host), std::move(target), std::move(settings), diag);
  auto response = co_await f.run();
  co_return response;
}

}  // namespace otls::net
