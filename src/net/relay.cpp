// STRIPTLS relay: forwards client bytes untouched and server bytes through the stripper.
#include "otls/net/relay.hpp"

#include <array>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace otls::net {
namespace {

using namespace boost::asio::experimental::awaitable_operators;

awaitable<void> pump(upgradable_stream& from, upgradable_stream& to, duration timeout,
                     proto::offer_stripper* stripper, meddler_stats& stats) {
  std::array<char, 16 * 1024> buffer;
  for (;;) {
    auto n = co_await from.read_some(buffer, timeout);
    if (!n) co_return;
    std::string_view bytes(buffer.data(), *n);
    std::string rewritten;
    if (stripper) {
      const unsigned before = stripper->offers_removed();
      rewritten = stripper->from_server(bytes);
      stats.offers_removed += stripper->offers_removed() - before;
      bytes = rewritten;
    }
    if (!bytes.empty() && co_await to.write_all(bytes, timeout)) co_return;
  }
}

awaitable<void> relay_one(tcp::socket client_socket, tcp::endpoint upstream,
                          std::unique_ptr<proto::offer_stripper> stripper, duration timeout,
                          std::shared_ptr<meddler_stats> stats) {
  const auto nothrow = boost::asio::as_tuple(boost::asio::use_awaitable);
  tcp::socket server_socket(client_socket.get_executor());
  auto [ec] = co_await server_socket.async_connect(upstream, nothrow);
  if (ec) co_return;
  upgradable_stream client(std::move(client_socket));
  upgradable_stream server(std::move(server_socket));
  // Whichever side ends first ends the relay.
  co_await (pump(client, server, timeout, nullptr, *stats) ||
            pump(server, client, timeout, stripper.get(), *stats));
  client.close();
  server.close();
}

}  // namespace

awaitable<void> meddler_loop(tcp::acceptor& acceptor, tcp::endpoint upstream,
                             rewriter_factory make_rewriter, duration timeout,
                             std::shared_ptr<meddler_stats> stats) {
  const auto nothrow = boost::asio::as_tuple(boost::asio::use_awaitable);
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(nothrow);
    if (ec) {
      if (!acceptor.is_open() || ec == boost::asio::error::operation_aborted) co_return;
      continue;
    }
    ++stats->connections;
    boost::asio::co_spawn(acceptor.get_executor(),
                          relay_one(std::move(socket), upstream, make_rewriter(), timeout, stats),
                          boost::asio::detached);
  }
}

}  // namespace otls::net
