// The single dialect driver shared by client and server roles (DESIGN.md "sans-I/O").
#include "otls/net/driver.hpp"

#include <algorithm>
#include <array>
#include <chrono>

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>

#include "otls/net/error.hpp"

namespace otls::net {

namespace {

awaitable<error_code> run_actions(upgradable_stream& stream, proto::dialect& dialect,
                                  const upgrade_handler& upgrade, duration timeout, deadline policy,
                                  data_channel* data) {
  using clock = std::chrono::steady_clock;
  std::array<char, 16 * 1024> buffer;
  // per_exchange: the time allowed for the answer we are waiting for, reset by our own moves.
  auto answer_due = clock::now() + timeout;
  const auto read_budget = [&] {
    if (policy == deadline::per_read) return timeout;
    return std::max(duration(0), std::chrono::duration_cast<duration>(answer_due - clock::now()));
  };
  for (;;) {
    proto::action act = dialect.next();
    switch (act.what) {
      case proto::action::kind::write:
        if (auto ec = co_await stream.write_all(act.bytes, timeout)) {
          co_return ec == errc::timeout ? ec : error_code(errc::connection_lost);
        }
        answer_due = clock::now() + timeout;
        break;
      case proto::action::kind::need_more: {
        auto n = co_await stream.read_some(buffer, read_budget());
        if (n) {
          dialect.feed(std::string_view(buffer.data(), *n));
        } else if (n.error() == boost::asio::error::eof ||
                   n.error() == boost::asio::ssl::error::stream_truncated) {
          dialect.on_eof();
        } else if (n.error() == errc::timeout) {
          co_return n.error();
        } else {
          co_return errc::connection_lost;
        }
        break;
      }
      case proto::action::kind::start_tls: {
        if (auto ec = co_await upgrade(dialect.take_leftover())) co_return ec;
        dialect.on_tls_established();
        answer_due = clock::now() + timeout;
        break;
      }
      case proto::action::kind::open_data: {
        error_code ec = errc::no_data_channel;
        if (data) ec = co_await data->open(act.data_port, act.data_tls, std::move(act.bytes));
        dialect.on_data_opened(ec);
        answer_due = clock::now() + timeout;
        break;
      }
      case proto::action::kind::finish_data: {
        result<std::string> received = errc::no_data_channel;
        if (data) received = co_await data->finish();
        dialect.on_data_finished(received ? error_code{} : received.error(),
                                 received ? std::string_view(*received) : std::string_view{});
        answer_due = clock::now() + timeout;
        break;
      }
      case proto::action::kind::done:
        co_return error_code{};
      case proto::action::kind::fail:
        co_return act.error;
    }
  }
}

}  // namespace

awaitable<error_code> run_dialect(upgradable_stream& stream, proto::dialect& dialect,
                                  const upgrade_handler& upgrade, duration timeout, deadline policy,
                                  data_channel* data) {
  const error_code ec = co_await run_actions(stream, dialect, upgrade, timeout, policy, data);
  if (data) co_await data->close();
  co_return ec;
}

}  // namespace otls::net
