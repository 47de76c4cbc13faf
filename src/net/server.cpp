// Server driver: each connection runs the protocol's server role; at the upgrade point every
// pipelined plaintext byte is discarded and logged, never executed inside TLS (rule 1).
#include "otls/net/server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "otls/net/driver.hpp"
#include "otls/net/error.hpp"
#include "otls/tls/tls.hpp"

namespace otls::net {

awaitable<error_code> serve_connection(tcp::socket socket, const proto::protocol& protocol,
                                       const server_settings& settings, server_stats& stats) {
  error_code peer_error;
  const std::string peer = socket.remote_endpoint(peer_error).address().to_string();
  auto log = [&](const std::string& text) {
    if (settings.log) settings.log(peer + ": " + text);
  };
  proto::server_options options = settings.dialect;
  options.tls_available = options.tls_available && settings.tls != nullptr;
  options.implicit_tls = protocol.implicit_tls;
  upgradable_stream stream(std::move(socket));
  ++stats.sessions;

  std::string tls_bytes;  // a ClientHello that arrived with the upgrade request
  const auto handshake = [&]() -> awaitable<error_code> {
    const auto ec = co_await stream.handshake(*settings.tls, boost::asio::ssl::stream_base::server,
                                              settings.timeout, {}, tls_bytes);
    if (ec) {
      log("TLS handshake failed: " + ec.message());
      co_return ec;
    }
    ++stats.tls_sessions;
    co_return error_code{};
  };

  if (protocol.implicit_tls) {
    if (!settings.tls) {
      log("implicit TLS needs a certificate; closing");
      co_return tls::errc::bad_certificate;
    }
    if (auto ec = co_await handshake()) {
      stream.close();
      co_return ec;
    }
  }
  auto dialect = protocol.make_server(options);
  const upgrade_handler upgrade = [&](std::string leftover) -> awaitable<error_code> {
    if (dialect->leftover_starts_tls()) {
      tls_bytes = std::move(leftover);  // TLS input, never parsed as plaintext
    } else if (!leftover.empty()) {
      ++stats.injections_discarded;
      log("discarded " + std::to_string(leftover.size()) +
          " plaintext bytes pipelined after the upgrade command (possible injection)");
    }
    const error_code handshake_error = co_await handshake();
    tls_bytes.clear();
    co_return handshake_error;
  };
  const error_code ec =
      co_await run_dialect(stream, *dialect, upgrade, settings.timeout, deadline::per_read);
  if (ec) log("session ended: " + ec.message());
  co_await stream.shutdown(duration(200));
  co_return ec;
}

awaitable<void> accept_loop(tcp::acceptor& acceptor, const proto::protocol& protocol,
                            std::shared_ptr<const server_settings> settings,
                            std::shared_ptr<server_stats> stats) {
  const auto nothrow = boost::asio::as_tuple(boost::asio::use_awaitable);
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(nothrow);
    if (ec) {
      if (!acceptor.is_open() || ec == boost::asio::error::operation_aborted) co_return;
      continue;  // transient (EMFILE, ECONNABORTED): keep serving
    }
    if (stats->active >= settings->max_connections) {
      if (settings->log) settings->log("connection refused: too many connections");
      continue;  // the socket closes as it goes out of scope
    }
    ++stats->active;
    boost::asio::co_spawn(
        acceptor.get_executor(),
        [socket = std::move(socket), &protocol, settings, stats]() mutable -> awaitable<void> {
          co_await serve_connection(std::move(socket), protocol, *settings, *stats);
          --stats->active;
        },
        boost::asio::detached);
  }
}

}  // namespace otls::net
