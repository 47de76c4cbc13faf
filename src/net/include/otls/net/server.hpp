// The server driver: accept connections and run a protocol's server role on each, with the
// upgrade discipline of DESIGN.md rules 1 and 3 (discard pipelined bytes, TLS after go-ahead).
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/ssl/context.hpp>

#include "otls/net/stream.hpp"
#include "otls/proto/registry.hpp"

namespace otls::net {

struct server_settings {
  proto::server_options dialect;
  std::shared_ptr<boost::asio::ssl::context> tls;  // null: no TLS offered
  duration timeout{60'000};                        // per read/write/handshake
  std::size_t max_connections = 256;               // refused beyond this
  // One line per notable event ("injection: discarded 12 bytes ..."); may be empty.
  std::function<void(const std::string&)> log;
};

struct server_stats {
  std::atomic<unsigned> sessions{0};
  std::atomic<unsigned> tls_sessions{0};
  std::atomic<unsigned> injections_discarded{0};  // upgrades that had pipelined bytes behind them
  std::atomic<unsigned> active{0};
};

// Serves one accepted connection to its end. Returns the session's error ({} on clean end).
awaitable<error_code> serve_connection(tcp::socket socket, const proto::protocol& protocol,
                                       const server_settings& settings, server_stats& stats);

// Accepts until the acceptor is closed; each connection runs concurrently on the executor.
awaitable<void> accept_loop(tcp::acceptor& acceptor, const proto::protocol& protocol,
                            std::shared_ptr<const server_settings> settings,
                            std::shared_ptr<server_stats> stats);

}  // namespace otls::net
