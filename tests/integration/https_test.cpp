// net::https_get, the MTA-STS policy fetch (RFC 8461 §3.3), against a scripted HTTPS server on
// loopback: statuses, chunking, no redirects, size limit, certificate checks, one deadline.
#include <array>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "otls/net/error.hpp"
#include "otls/net/https.hpp"
#include "otls/tls/cert_maker.hpp"

namespace otls {
namespace {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using asio::ip::tcp;
constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);
constexpr auto policy_host = "mta-sts.example.test";
constexpr auto policy_path = "/.well-known/mta-sts.txt";
// Every wait of the scripted server ends by itself; the client's own deadline is shorter.
constexpr std::chrono::seconds server_limit{5};

enum class behaviour {
  respond,  // handshake, read the request, write the scripted response, close_notify
  silent,   // accept TCP and say nothing, not even a TLS ServerHello
  trickle,  // handshake, read the request, then send the response one byte at a time
};

struct script {
  std::string response;
  behaviour how = behaviour::respond;
  std::vector<std::string> requests;  // every request seen, in full
};

// One connection of the scripted server.
asio::awaitable<void> serve_one(tcp::socket socket, std::shared_ptr<asio::ssl::context> context,
                                script& s) {
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer timer(executor, server_limit);
  if (s.how == behaviour::silent) {
    // Swallow the ClientHello and whatever follows until the client gives up and closes (or
    // the server's own limit passes).
    std::array<char, 512> buf;
    for (;;) {
      auto read = co_await (socket.async_read_some(asio::buffer(buf), nothrow) ||
                            timer.async_wait(nothrow));
      if (read.index() == 1 || std::get<0>(std::get<0>(read))) co_return;
    }
  }
  asio::ssl::stream<tcp::socket> tls(std::move(socket), *context);
  auto handshaken = co_await (tls.async_handshake(asio::ssl::stream_base::server, nothrow) ||
                              timer.async_wait(nothrow));
  if (handshaken.index() == 1 || std::get<0>(std::get<0>(handshaken))) co_return;
  std::string request;
  auto dynamic = asio::dynamic_buffer(request, 16 * 1024);
  auto read = co_await (asio::async_read_until(tls, dynamic, "\r\n\r\n", nothrow) ||
                        timer.async_wait(nothrow));
  if (read.index() == 1 || std::get<0>(std::get<0>(read))) co_return;
  s.requests.push_back(request);
  if (s.how == behaviour::trickle) {
    // A byte every 20 ms: each read makes progress, only a deadline for the whole fetch stops
    // it. Bounded by the response's length.
    for (const char c : s.response) {
      asio::steady_timer pause(executor, std::chrono::milliseconds(20));
      auto paused = co_await pause.async_wait(nothrow);
      (void)paused;
      auto sent = co_await asio::async_write(tls, asio::buffer(&c, 1), nothrow);
      if (std::get<0>(sent)) co_return;
    }
    co_return;
  }
  auto sent = co_await (asio::async_write(tls, asio::buffer(s.response), nothrow) ||
                        timer.async_wait(nothrow));
  if (sent.index() == 1 || std::get<0>(std::get<0>(sent))) co_return;
  auto closed = co_await (tls.async_shutdown(nothrow) || timer.async_wait(nothrow));
  (void)closed;
}

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor,
                                  std::shared_ptr<asio::ssl::context> context, script& s) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(nothrow);
    if (ec) co_return;
    asio::co_spawn(acceptor.get_executor(), serve_one(std::move(socket), context, s),
                   asio::detached);
  }
}

std::string ok(const std::string& content_type, const std::string& body) {
  return "HTTP/1.1 200 OK\r\nContent-Type: " + content_type +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" +
         body;
}

constexpr auto policy_text =
    "version: STSv1\r\nmode: enforce\r\nmx: mx.example.test\r\nmax_age: 86400\r\n";

class Https : public ::testing::Test {
 protected:
  void SetUp() override {
    ca_ = std::make_unique<tls::certificate_authority>(
        tls::certificate_authority::create("https test CA", tls::key_kind::ecdsa_p256).value());
    ca_file_ = std::filesystem::temp_directory_path() /
               ("otls-https-ca-" + std::to_string(::getpid()) + ".pem");
    std::ofstream(ca_file_) << ca_->certificate_pem();
  }
  void TearDown() override { std::filesystem::remove(ca_file_); }

  std::shared_ptr<asio::ssl::context> server_context(const std::string& name,
                                                     const tls::certificate_authority& ca) {
    auto leaf = ca.issue({name}, tls::key_kind::ecdsa_p256).value();
    tls::server_config config;
    config.certificate_chain_pem = leaf.certificate_pem;
    config.private_key_pem = leaf.private_key_pem;
    return std::make_shared<asio::ssl::context>(tls::make_server_context(config).value());
  }

  // Starts the scripted server on an ephemeral loopback port.
  tcp::endpoint start(std::string response, behaviour how = behaviour::respond,
                      const std::string& cert_name = policy_host,
                      const tls::certificate_authority* ca = nullptr) {
    script_.response = std::move(response);
    script_.how = how;
    acceptor_.emplace(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    asio::co_spawn(io_,
                   accept_loop(*acceptor_, server_context(cert_name, ca ? *ca : *ca_), script_),
                   asio::detached);
    return acceptor_->local_endpoint();
  }

  net::https_settings settings(std::vector<tcp::endpoint> endpoints) {
    net::https_settings s;
    s.endpoints = std::move(endpoints);
    s.timeout = std::chrono::seconds(5);
    s.tls.ca_file = ca_file_.string();
    s.tls.servername = policy_host;
    return s;
  }

  // Runs one fetch to completion, then stops the listener so io_.run() returns once the
  // server's connections have ended (each of them is bounded).
  result<net::https_response> get(net::https_settings s) {
    result<net::https_response> out = net::errc::http_failure;
    const auto started = std::chrono::steady_clock::now();
    asio::co_spawn(
        io_,
        [&]() -> asio::awaitable<void> {
          auto response = co_await net::https_get(policy_host, policy_path, s, diag_);
          out = std::move(response);
          elapsed_ = std::chrono::steady_clock::now() - started;
          error_code ignored;
          if (acceptor_) acceptor_->close(ignored);
        },
        asio::detached);
    io_.run();
    io_.restart();
    return out;
  }

  // A loopback port where nothing listens (bound, then released).
  tcp::endpoint refused_endpoint() {
    tcp::acceptor closed(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    const auto endpoint = closed.local_endpoint();
    closed.close();
    return endpoint;
  }

  asio::io_context io_;
  std::unique_ptr<tls::certificate_authority> ca_;
  std::filesystem::path ca_file_;
  std::optional<tcp::acceptor> acceptor_;
  script script_;
  diagnostics diag_;
  std::chrono::steady_clock::duration elapsed_{};
};

TEST_F(Https, OkWithBody) {
  const auto server = start(ok("text/plain", policy_text));
  const auto r = get(settings({server}));
  ASSERT_TRUE(r) << r.error().message() << ": " << diag_.detail;
  EXPECT_EQ(r->status, 200u);
  EXPECT_EQ(r->content_type, "text/plain");
  EXPECT_EQ(r->body, policy_text);
  EXPECT_FALSE(r->location);
  ASSERT_EQ(script_.requests.size(), 1u);
  const auto& request = script_.requests[0];
  EXPECT_EQ(request.rfind("GET /.well-known/mta-sts.txt HTTP/1.1\r\n", 0), 0u) << request;
  EXPECT_NE(request.find("\r\nHost: mta-sts.example.test\r\n"), std::string::npos) << request;
  EXPECT_NE(request.find("\r\nConnection: close\r\n"), std::string::npos) << request;
  EXPECT_NE(request.find("\r\nUser-Agent: otls/"), std::string::npos) << request;
}

TEST_F(Https, ContentTypeIsKeptAsSent) {
  const auto server = start(ok("text/plain; charset=utf-8", policy_text));
  const auto r = get(settings({server}));
  ASSERT_TRUE(r) << r.error().message() << ": " << diag_.detail;
  EXPECT_EQ(r->content_type, "text/plain; charset=utf-8");
  EXPECT_EQ(r->body, policy_text);
}

TEST_F(Https, ChunkedBody) {
  const auto server = start(
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
      "10\r\nversion: STSv1\r\n\r\n"
      "f\r\nmode: testing\r\n\r\n"
      "0\r\n\r\n");
  const auto r = get(settings({server}));
  ASSERT_TRUE(r) << r.error().message() << ": " << diag_.detail;
  EXPECT_EQ(r->status, 200u);
  EXPECT_EQ(r->body, "version: STSv1\r\nmode: testing\r\n");
}

TEST_F(Https, NotFoundIsAResultWithoutBody) {
  const auto server = start(
      "HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nContent-Length: 9\r\n\r\nno policy");
  const auto r = get(settings({server}));
  ASSERT_TRUE(r) << r.error().message() << ": " << diag_.detail;
  EXPECT_EQ(r->status, 404u);
  EXPECT_EQ(r->content_type, "text/html");
  EXPECT_TRUE(r->body.empty());
}

TEST_F(Https, LargeErrorPageIsStillJustTheStatus) {
  // The limit is for policies: a 404 page over it is a 404, its body never read.
  const auto server =
      start("HTTP/1.1 404 Not Found\r\nContent-Length: 200000\r\n\r\n" + std::string(200000, 'x'));
  const auto r = get(settings({server}));
  ASSERT_TRUE(r) << r.error().message() << ": " << diag_.detail;
  EXPECT_EQ(r->status, 404u);
  EXPECT_TRUE(r->body.empty());
}

TEST_F(Https, RedirectIsReportedNotFollowed) {
  const auto server = start(
      "HTTP/1.1 301 Moved Permanently\r\nLocation: https://elsewhere.example.test/policy\r\n"
      "Content-Length: 0\r\n\r\n");
  const auto r = get(settings({server}));
  ASSERT_TRUE(r) << r.error().message() << ": " << diag_.detail;
  EXPECT_EQ(r->status, 301u);
  ASSERT_TRUE(r->location);
  EXPECT_EQ(*r->location, "https://elsewhere.example.test/policy");
  EXPECT_TRUE(r->body.empty());
  EXPECT_EQ(script_.requests.size(), 1u);
}

TEST_F(Https, BodyOverTheLimitIsHttpFailure) {
  const auto server = start(ok("text/plain", std::string(64 * 1024 + 1, 'x')));
  const auto r = get(settings({server}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), net::errc::http_failure);
  EXPECT_NE(diag_.detail.find("the policy is larger than 64 KiB"), std::string::npos)
      << diag_.detail;
}

TEST_F(Https, ChunkedBodyOverTheLimitIsHttpFailure) {
  // No Content-Length to refuse up front: the limit must hold while the chunks stream in.
  const auto server = start(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "10\r\n0123456789abcdef\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n");
  auto s = settings({server});
  s.body_limit = 20;
  const auto r = get(s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), net::errc::http_failure);
  EXPECT_NE(diag_.detail.find("larger than 20 bytes"), std::string::npos) << diag_.detail;
}

TEST_F(Https, CertificateForAnotherName) {
  const auto server =
      start(ok("text/plain", policy_text), behaviour::respond, "other.example.test");
  const auto r = get(settings({server}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), tls::errc::certificate_host_mismatch) << diag_.detail;
  EXPECT_FALSE(diag_.detail.empty());
  EXPECT_TRUE(script_.requests.empty());  // nothing is asked of an unverified server
}

TEST_F(Https, UntrustedCertificateAuthority) {
  const auto other =
      tls::certificate_authority::create("unknown CA", tls::key_kind::ecdsa_p256).value();
  const auto server = start(ok("text/plain", policy_text), behaviour::respond, policy_host, &other);
  const auto r = get(settings({server}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), tls::errc::certificate_not_trusted) << diag_.detail;
  // OpenSSL's reason is passed on.
  EXPECT_NE(diag_.detail.find("certificate"), std::string::npos) << diag_.detail;
  EXPECT_TRUE(script_.requests.empty());
}

TEST_F(Https, GarbageInsteadOfHttp) {
  const auto server = start("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n");
  const auto r = get(settings({server}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), net::errc::http_failure) << diag_.detail;
  ASSERT_EQ(diag_.peer_text.size(), 1u);
  EXPECT_EQ(diag_.peer_text[0], "SSH-2.0-OpenSSH_9.2p1 Debian-2");
}

TEST_F(Https, SilentServerTimesOut) {
  const auto server = start("", behaviour::silent);
  auto s = settings({server});
  s.timeout = std::chrono::milliseconds(300);
  const auto r = get(s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), net::errc::timeout) << diag_.detail;
  EXPECT_NE(diag_.detail.find("within 300 ms"), std::string::npos) << diag_.detail;
  EXPECT_GE(elapsed_, std::chrono::milliseconds(300));
  EXPECT_LT(elapsed_, std::chrono::seconds(3));  // generous: a bound, not a benchmark
}

TEST_F(Https, TricklingServerTimesOut) {
  const auto server = start(ok("text/plain", policy_text), behaviour::trickle);
  auto s = settings({server});
  s.timeout = std::chrono::milliseconds(300);
  const auto r = get(s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), net::errc::timeout) << diag_.detail;
  EXPECT_NE(diag_.detail.find("within 300 ms"), std::string::npos) << diag_.detail;
  EXPECT_LT(elapsed_, std::chrono::seconds(3));
}

TEST_F(Https, ConnectionRefused) {
  const auto r = get(settings({refused_endpoint()}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), net::errc::connect_failure) << diag_.detail;
  EXPECT_FALSE(diag_.detail.empty());
}

TEST_F(Https, NextAddressAfterARefusal) {
  const auto refused = refused_endpoint();
  const auto server = start(ok("text/plain", policy_text));
  const auto r = get(settings({refused, server}));
  ASSERT_TRUE(r) << r.error().message() << ": " << diag_.detail;
  EXPECT_EQ(r->body, policy_text);
}

}  // namespace
}  // namespace otls
