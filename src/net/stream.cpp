// Deadline-bounded reads, writes and in-place TLS upgrades over one TCP socket.
#include "otls/net/stream.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "otls/net/error.hpp"

namespace otls::net {
namespace {

using namespace boost::asio::experimental::awaitable_operators;
constexpr auto nothrow = boost::asio::as_tuple(boost::asio::use_awaitable);

}  // namespace

awaitable<result<std::size_t>> upgradable_stream::read_some(std::span<char> buffer,
                                                            duration timeout) {
  boost::asio::steady_timer timer(socket_.get_executor(), timeout);
  const auto buf = boost::asio::buffer(buffer.data(), buffer.size());
  auto outcome =
      tls_ ? co_await (tls_->async_read_some(buf, nothrow) || timer.async_wait(nothrow))
           : co_await (socket_.async_read_some(buf, nothrow) || timer.async_wait(nothrow));
  if (outcome.index() == 1) {
    close();
    co_return errc::timeout;
  }
  auto [ec, n] = std::get<0>(outcome);
  if (ec) co_return ec;
  co_return n;
}

awaitable<error_code> upgradable_stream::write_all(std::string_view bytes, duration timeout) {
  boost::asio::steady_timer timer(socket_.get_executor(), timeout);
  const auto buf = boost::asio::buffer(bytes.data(), bytes.size());
  auto outcome =
      tls_
          ? co_await (boost::asio::async_write(*tls_, buf, nothrow) || timer.async_wait(nothrow))
          : co_await (boost::asio::async_write(socket_, buf, nothrow) || timer.async_wait(nothrow));
  if (outcome.index() == 1) {
    close();
    co_return errc::timeout;
  }
  co_return std::get<0>(std::get<0>(outcome));
}

awaitable<error_code> upgradable_stream::handshake(
    boost::asio::ssl::context& context, boost::asio::ssl::stream_base::handshake_type type,
    duration timeout, const std::function<void(SSL*)>& prepare, std::string_view initial) {
  tls_.emplace(socket_, context);
  if (prepare) prepare(tls_->native_handle());
  boost::asio::steady_timer timer(socket_.get_executor(), timeout);
  auto outcome = co_await (
      tls_->async_handshake(type, boost::asio::buffer(initial.data(), initial.size()), nothrow) ||
      timer.async_wait(nothrow));
  if (outcome.index() == 1) {
    close();
    co_return errc::timeout;
  }
  co_return std::get<0>(std::get<0>(outcome));
}

awaitable<void> upgradable_stream::shutdown(duration timeout) {
  if (tls_ && socket_.is_open()) {
    boost::asio::steady_timer timer(socket_.get_executor(), timeout);
    co_await (tls_->async_shutdown(nothrow) || timer.async_wait(nothrow));
  }
  close();
}

void upgradable_stream::close() {
  error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
}

}  // namespace otls::net
