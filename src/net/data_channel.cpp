// FTP data connections for the client role (RFC 959 §3.2, RFC 2428 §3, RFC 4217 §9-10).
#include "otls/net/data_channel.hpp"

#include <algorithm>
#include <array>
#include <chrono>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "otls/net/client.hpp"
#include "otls/net/error.hpp"

namespace otls::net {
namespace {

constexpr auto nothrow = boost::asio::as_tuple(boost::asio::use_awaitable);
using clock = std::chrono::steady_clock;

}  // namespace

// One connection's state, shared by the channel and its background receive.
struct data_channel::transfer {
  transfer(tcp::socket socket, boost::asio::ssl::context& context)
      : stream(std::move(socket)),
        context(context),
        done(stream.socket().get_executor(), clock::time_point::max()) {}

  upgradable_stream stream;
  boost::asio::ssl::context& context;
  boost::asio::steady_timer done;  // cancelled when the receive ends: the channel's signal
  bool running = true;
  bool protect = false;
  tls::client_config config;
  tls::session_handle session;  // the control connection's, offered for resumption
  bool verify_certificate = true;
  clock::time_point deadline;
  std::string received;
  error_code error;
  data_channel_report report;
};

data_channel::data_channel(upgradable_stream& control, boost::asio::ssl::context& context,
                           tls::client_config config, bool verify_certificate, duration timeout)
    : control_(control),
      context_(context),
      config_(std::move(config)),
      verify_certificate_(verify_certificate),
      timeout_(timeout) {}

data_channel::~data_channel() {
  // close() was awaited; should it not have been, at least stop the socket.
  if (transfer_ && transfer_->running) transfer_->stream.close();
}

awaitable<error_code> data_channel::open(std::uint16_t port, bool protect, std::string advertised) {
  co_await close();
  error_code ec;
  const auto peer = control_.socket().remote_endpoint(ec);
  if (ec) co_return ec;
  std::vector<connect_attempt> attempts;
  // Named: GCC 12 miscompiles a co_await on a braced initializer.
  const std::vector<tcp::endpoint> endpoints{tcp::endpoint(peer.address(), port)};
  auto socket = co_await connect_first(endpoints, timeout_, attempts);
  report_ =
      data_channel_report{attempts.back().address, std::move(advertised), protect, {}, {}, {}};
  if (!socket) co_return attempts.back().error;

  transfer_ = std::make_shared<transfer>(std::move(*socket), context_);
  transfer_->protect = protect;
  transfer_->config = config_;
  transfer_->verify_certificate = verify_certificate_;
  transfer_->deadline = clock::now() + 2 * timeout_;
  transfer_->report = *report_;
  if (protect) {
    // With TLS 1.3 the resumable session came in a NewSessionTicket after the control
    // handshake, read by the replies since; RFC 4217 §10.2 lets servers insist on it.
    transfer_->session = tls::resumable_session(control_.tls_handle());
    if (!transfer_->session)
      transfer_->report.warnings.push_back(
          "the control connection holds no resumable TLS session: the data connection makes a "
          "full handshake, which servers that require session reuse refuse");
  }
  auto t = transfer_;
  boost::asio::co_spawn(control_.socket().get_executor(), receive(t), [t](std::exception_ptr e) {
    if (e && !t->error) t->error = errc::connection_lost;
    t->running = false;
    t->done.cancel();
  });
  co_return error_code{};
}

awaitable<void> data_channel::receive(std::shared_ptr<transfer> t) {
  const auto budget = [&] {
    return std::max(duration(0), std::chrono::duration_cast<duration>(t->deadline - clock::now()));
  };
  if (t->protect) {
    const auto session = t->session;
    const auto config = t->config;
    const auto ec = co_await t->stream.handshake(t->context, boost::asio::ssl::stream_base::client,
                                                 budget(), [&](SSL* ssl) {
                                                   tls::prepare_client(ssl, config);
                                                   tls::offer_session(ssl, session);
                                                 });
    if (ec) {
      t->error = ec == errc::timeout ? ec : tls::classify_handshake_error(ec, t->report.failure);
      co_return;
    }
    t->report.tls_facts = tls::inspect(t->stream.tls_handle(), t->config);
    if (t->verify_certificate) {
      if (const auto bad = tls::verification_error(t->report.tls_facts->verify)) {
        t->error = bad;
        t->report.failure = t->report.tls_facts->verify.error;
        co_return;
      }
    }
  }
  std::array<char, 16 * 1024> buffer;
  for (;;) {
    auto n = co_await t->stream.read_some(buffer, budget());
    if (!n) {
      if (n.error() == boost::asio::error::eof) break;
      if (n.error() == boost::asio::ssl::error::stream_truncated) {
        // The server closed without close_notify: a truncation would look the same.
        t->report.warnings.push_back(
            "the data connection ended without a TLS close_notify; truncation would go unseen");
        break;
      }
      t->error = n.error() == errc::timeout ? error_code(errc::timeout) : n.error();
      co_return;
    }
    if (t->received.size() + *n > max_bytes) {
      t->error = errc::data_too_large;
      co_return;
    }
    t->received.append(buffer.data(), *n);
  }
  // Our close_notify (or FIN) ends the transfer for the server: ProFTPD sends its final
  // reply on the control connection only after it.
  co_await t->stream.shutdown(budget());
}

awaitable<result<std::string>> data_channel::finish() {
  if (!transfer_) co_return errc::no_data_channel;
  if (transfer_->running) co_await transfer_->done.async_wait(nothrow);
  const auto t = std::exchange(transfer_, nullptr);
  report_ = t->report;
  if (t->error) co_return t->error;
  co_return std::move(t->received);
}

awaitable<void> data_channel::close() {
  if (!transfer_) co_return;
  if (transfer_->running) {
    transfer_->stream.close();
    co_await transfer_->done.async_wait(nothrow);
  }
  report_ = transfer_->report;
  transfer_.reset();
}

}  // namespace otls::net
