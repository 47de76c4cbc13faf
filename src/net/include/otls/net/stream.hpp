// A TCP connection that can be upgraded to TLS in place (STARTTLS) or start with it
// (implicit TLS, RFC 8314), where every operation has a deadline.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <span>
#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>

#include "otls/core/error.hpp"

namespace otls::net {

using boost::asio::awaitable;
using boost::asio::ip::tcp;
using duration = std::chrono::milliseconds;

class upgradable_stream {
 public:
  explicit upgradable_stream(tcp::socket socket) : socket_(std::move(socket)) {}

  // Bytes read (0 only with an error); boost::asio::error::eof when the peer closed;
  // errc::timeout past the deadline (the connection is then closed).
  awaitable<result<std::size_t>> read_some(std::span<char> buffer, duration timeout);
  awaitable<error_code> write_all(std::string_view bytes, duration timeout);

  // Upgrades in place. `prepare` sets per-connection options (SNI) before the handshake.
  // Errors come back as asio/OpenSSL errors for tls::classify_handshake_error.
  // `initial` holds TLS bytes already read from the peer (a ClientHello that arrived with the
  // upgrade request).
  awaitable<error_code> handshake(boost::asio::ssl::context& context,
                                  boost::asio::ssl::stream_base::handshake_type type,
                                  duration timeout, const std::function<void(SSL*)>& prepare = {},
                                  std::string_view initial = {});

  bool tls_active() const { return tls_.has_value(); }
  SSL* tls_handle() { return tls_ ? tls_->native_handle() : nullptr; }
  tcp::socket& socket() { return socket_; }
  // Best-effort TLS close_notify (bounded by timeout) before closing the socket.
  awaitable<void> shutdown(duration timeout);
  void close();

 private:
  tcp::socket socket_;
  std::optional<boost::asio::ssl::stream<tcp::socket&>> tls_;
};

}  // namespace otls::net
