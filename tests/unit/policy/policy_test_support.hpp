// Shared by the policy unit tests: run a coroutine to completion on a private io_context.
#pragma once

#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

namespace otls::policy::testing {

template <typename T>
T run(boost::asio::awaitable<T> work) {
  boost::asio::io_context io;
  auto f = boost::asio::co_spawn(io, std::move(work), boost::asio::use_future);
  io.run();
  return f.get();
}

}  // namespace otls::policy::testing
