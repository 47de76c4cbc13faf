// otls's client role against otls's server role (and scripted bad peers) on loopback: upgrade,
// verification, STRIPTLS, and both injection rules of DESIGN.md.
#include <filesystem>
#include <fstream>
#include <memory>

#include <gtest/gtest.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "otls/net/client.hpp"
#include "otls/net/error.hpp"
#include "otls/net/relay.hpp"
#include "otls/net/server.hpp"
#include "otls/tls/cert_maker.hpp"

namespace otls {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using core::outcome;
constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

class Loopback : public ::testing::Test {
 protected:
  void SetUp() override {
    ca_ = std::make_unique<tls::certificate_authority>(
        tls::certificate_authority::create("loopback test CA", tls::key_kind::ecdsa_p256).value());
    ca_file_ = std::filesystem::temp_directory_path() /
               ("otls-loopback-ca-" + std::to_string(::getpid()) + ".pem");
    std::ofstream(ca_file_) << ca_->certificate_pem();
  }
  void TearDown() override { std::filesystem::remove(ca_file_); }

  std::shared_ptr<asio::ssl::context> server_context(const std::string& name) {
    auto leaf = ca_->issue({name, "127.0.0.1"}, tls::key_kind::ecdsa_p256).value();
    tls::server_config config;
    config.certificate_chain_pem = leaf.certificate_pem;
    config.private_key_pem = leaf.private_key_pem;
    return std::make_shared<asio::ssl::context>(tls::make_server_context(config).value());
  }

  // Starts otls's SMTP server role on an ephemeral port.
  std::uint16_t start_server(proto::server_options options,
                             const std::string& cert_name = "mx.test") {
    settings_ = std::make_shared<net::server_settings>();
    settings_->dialect = std::move(options);
    settings_->tls = server_context(cert_name);
    settings_->timeout = std::chrono::seconds(5);
    settings_->log = [this](const std::string& line) { server_log_.push_back(line); };
    acceptor_.emplace(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    asio::co_spawn(io_,
                   net::accept_loop(*acceptor_, *proto::find_protocol("smtp"), settings_, stats_),
                   asio::detached);
    return acceptor_->local_endpoint().port();
  }

  net::client_settings client(bool require_tls = true, bool verify = true) {
    net::client_settings s;
    s.timeout = std::chrono::seconds(5);
    s.tls.ca_file = ca_file_.string();
    s.tls.servername = "mx.test";
    s.dialect.require_tls = require_tls;
    s.verify_certificate = verify;
    return s;
  }

  // Runs one probe to completion, then stops every listener so io_.run() returns.
  net::client_report probe(std::uint16_t port, net::client_settings settings) {
    net::client_report report;
    auto target = proto::resolve_target("smtp://127.0.0.1:" + std::to_string(port)).value();
    asio::co_spawn(
        io_,
        [&]() -> asio::awaitable<void> {
          report = co_await net::run_client(target, settings);
          error_code ignored;
          if (acceptor_) acceptor_->close(ignored);
          for (auto& a : extra_acceptors_) a->close(ignored);
        },
        asio::detached);
    io_.run();
    io_.restart();
    return report;
  }

  asio::io_context io_;
  std::unique_ptr<tls::certificate_authority> ca_;
  std::filesystem::path ca_file_;
  std::optional<tcp::acceptor> acceptor_;
  std::vector<std::unique_ptr<tcp::acceptor>> extra_acceptors_;
  std::shared_ptr<net::server_settings> settings_;
  std::shared_ptr<net::server_stats> stats_ = std::make_shared<net::server_stats>();
  std::vector<std::string> server_log_;
};

TEST_F(Loopback, UpgradesAndVerifies) {
  const auto port = start_server({});
  const auto r = probe(port, client());
  ASSERT_FALSE(r.error) << r.error.message() << ": " << r.diag.detail;
  EXPECT_TRUE(r.facts.starttls_offered);
  EXPECT_TRUE(r.facts.starttls_accepted);
  ASSERT_TRUE(r.tls);
  EXPECT_EQ(r.tls->version, "TLSv1.3");
  EXPECT_TRUE(r.tls->forward_secrecy);
  EXPECT_TRUE(r.tls->verify.trusted);
  EXPECT_TRUE(r.tls->verify.hostname_match);
  EXPECT_EQ(r.address, "127.0.0.1:" + std::to_string(port));
  // Rule 2: the post-TLS capabilities were asked again and no longer offer STARTTLS.
  EXPECT_NE(std::find(r.facts.capabilities_before_tls.begin(),
                      r.facts.capabilities_before_tls.end(), "STARTTLS"),
            r.facts.capabilities_before_tls.end());
  EXPECT_FALSE(r.facts.capabilities_after_tls.empty());
  EXPECT_EQ(std::find(r.facts.capabilities_after_tls.begin(), r.facts.capabilities_after_tls.end(),
                      "STARTTLS"),
            r.facts.capabilities_after_tls.end());
  EXPECT_EQ(stats_->tls_sessions, 1u);
}

TEST_F(Loopback, HostMismatchIsNamed) {
  const auto port = start_server({}, "other.test");
  const auto r = probe(port, client());
  EXPECT_EQ(net::outcome_of(r.error), outcome::certificate_host_mismatch) << r.diag.detail;
  ASSERT_TRUE(r.tls);
  EXPECT_TRUE(r.tls->verify.trusted);
  EXPECT_FALSE(r.tls->verify.hostname_match);
  EXPECT_TRUE(r.facts.capabilities_after_tls.empty());  // nothing said inside an unverified session
}

TEST_F(Loopback, EncryptLevelWarnsButProceedsOnMismatch) {
  const auto port = start_server({}, "other.test");
  const auto r = probe(port, client(true, false));
  EXPECT_FALSE(r.error) << r.diag.detail;
  ASSERT_FALSE(r.warnings.empty());
  EXPECT_FALSE(r.facts.capabilities_after_tls.empty());
}

TEST_F(Loopback, UntrustedWithoutTheCa) {
  const auto port = start_server({});
  auto settings = client();
  settings.tls.ca_file.clear();  // the system store does not know the test CA
  const auto r = probe(port, settings);
  EXPECT_EQ(net::outcome_of(r.error), outcome::certificate_not_trusted) << r.diag.detail;
}

TEST_F(Loopback, StarttlsRequiredServerStillUpgrades) {
  proto::server_options o;
  o.starttls_required = true;
  const auto port = start_server(o);
  const auto r = probe(port, client());
  EXPECT_FALSE(r.error) << r.diag.detail;
}

TEST_F(Loopback, NoTlsOfferedAtVerifyAndMay) {
  proto::server_options o;
  o.tls_available = false;
  const auto port = start_server(o);
  EXPECT_EQ(net::outcome_of(probe(port, client()).error), outcome::starttls_not_supported);
  const auto port2 = start_server(o);
  const auto r = probe(port2, client(false, false));
  EXPECT_FALSE(r.error);
  EXPECT_TRUE(r.facts.ended_in_plaintext);
  ASSERT_FALSE(r.warnings.empty());
  EXPECT_NE(r.warnings.front().find("PLAINTEXT"), std::string::npos);
}

TEST_F(Loopback, StriptlsRelayIsCaughtAtVerify) {
  const auto server_port = start_server({});
  auto& attacker = *extra_acceptors_.emplace_back(
      std::make_unique<tcp::acceptor>(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)));
  auto stats = std::make_shared<net::meddler_stats>();
  asio::co_spawn(io_,
                 net::meddler_loop(attacker, {asio::ip::make_address("127.0.0.1"), server_port},
                                   proto::find_protocol("smtp")->make_stripper,
                                   std::chrono::seconds(5), stats),
                 asio::detached);
  const auto r = probe(attacker.local_endpoint().port(), client());
  EXPECT_EQ(net::outcome_of(r.error), outcome::starttls_not_supported);
  EXPECT_EQ(stats->offers_removed, 1u);
}

TEST_F(Loopback, Ipv6Literal) {
  settings_ = std::make_shared<net::server_settings>();
  settings_->tls = server_context("mx.test");
  boost::system::error_code ec;
  acceptor_.emplace(io_);
  acceptor_->open(tcp::v6(), ec);
  if (!ec) acceptor_->bind({asio::ip::make_address("::1"), 0}, ec);
  if (ec) GTEST_SKIP() << "no IPv6 loopback on this machine: " << ec.message();
  acceptor_->listen();
  asio::co_spawn(io_,
                 net::accept_loop(*acceptor_, *proto::find_protocol("smtp"), settings_, stats_),
                 asio::detached);
  const auto port = acceptor_->local_endpoint().port();
  net::client_report report;
  auto target = proto::resolve_target("smtp://[::1]:" + std::to_string(port)).value();
  asio::co_spawn(
      io_,
      [&]() -> asio::awaitable<void> {
        report = co_await net::run_client(target, client());
        acceptor_->close();
      },
      asio::detached);
  io_.run();
  EXPECT_FALSE(report.error) << report.diag.detail;
  EXPECT_EQ(report.address, "[::1]:" + std::to_string(port));
}

TEST_F(Loopback, EveryAddressIsTriedInTurn) {
  const auto port = start_server({});
  // A port where nothing listens any more, then the real server.
  tcp::acceptor closed(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const tcp::endpoint refused(asio::ip::make_address("127.0.0.1"), closed.local_endpoint().port());
  closed.close();
  const tcp::endpoint listening(asio::ip::make_address("127.0.0.1"), port);
  const std::vector<tcp::endpoint> endpoints{refused, listening};
  std::vector<net::connect_attempt> attempts;
  bool connected = false;
  asio::co_spawn(
      io_,
      [&]() -> asio::awaitable<void> {
        auto socket = co_await net::connect_first(endpoints, std::chrono::seconds(5), attempts);
        connected = socket.has_value();
        acceptor_->close();
      },
      asio::detached);
  io_.run();
  EXPECT_TRUE(connected);
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_TRUE(attempts[0].error);
  EXPECT_FALSE(attempts[1].error);
  EXPECT_EQ(attempts[1].address, "127.0.0.1:" + std::to_string(port));
}

TEST_F(Loopback, NoAddressAcceptsIsConnectFailure) {
  tcp::acceptor closed(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const tcp::endpoint refused = closed.local_endpoint();
  closed.close();
  const std::vector<tcp::endpoint> endpoints{refused, refused};
  std::vector<net::connect_attempt> attempts;
  error_code result;
  asio::co_spawn(
      io_,
      [&]() -> asio::awaitable<void> {
        auto socket = co_await net::connect_first(endpoints, std::chrono::seconds(5), attempts);
        result = socket ? error_code{} : socket.error();
      },
      asio::detached);
  io_.run();
  EXPECT_EQ(result, net::errc::connect_failure);
  EXPECT_EQ(attempts.size(), 2u);
}

// A scripted server that answers STARTTLS with the go-ahead plus injected replies in one write.
asio::awaitable<void> injecting_server(tcp::acceptor& acceptor, std::string& after_go_ahead) {
  auto [ec, socket] = co_await acceptor.async_accept(nothrow);
  if (ec) co_return;
  asio::streambuf in;
  co_await asio::async_write(socket, asio::buffer(std::string("220 evil ESMTP\r\n")), nothrow);
  co_await asio::async_read_until(socket, in, "\r\n", nothrow);
  in.consume(in.size());
  co_await asio::async_write(socket, asio::buffer(std::string("250-evil\r\n250 STARTTLS\r\n")),
                             nothrow);
  co_await asio::async_read_until(socket, in, "\r\n", nothrow);
  in.consume(in.size());
  co_await asio::async_write(
      socket, asio::buffer(std::string("220 go ahead\r\n250-evil\r\n250 AUTH PLAIN\r\n")), nothrow);
  // Whatever the client sends now: a ClientHello would start with 0x16.
  std::array<char, 512> buf;
  auto [read_error, n] = co_await socket.async_read_some(asio::buffer(buf), nothrow);
  after_go_ahead.assign(buf.data(), read_error ? 0 : n);
}

TEST_F(Loopback, ClientRefusesResponseInjection) {
  auto& acceptor = *extra_acceptors_.emplace_back(
      std::make_unique<tcp::acceptor>(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)));
  std::string after_go_ahead = "unset";
  asio::co_spawn(io_, injecting_server(acceptor, after_go_ahead), asio::detached);
  const auto r = probe(acceptor.local_endpoint().port(), client());
  EXPECT_EQ(net::outcome_of(r.error), outcome::response_injection);
  EXPECT_EQ(r.leftover_plaintext, "250-evil\r\n250 AUTH PLAIN\r\n");
  EXPECT_FALSE(r.tls);
  // No handshake was attempted on the tainted connection: no ClientHello arrived.
  EXPECT_TRUE(after_go_ahead.empty() || after_go_ahead[0] != '\x16') << after_go_ahead;
}

// A raw client that pipelines commands behind STARTTLS, then speaks TLS and checks that the
// server answers only what is sent inside TLS.
asio::awaitable<void> pipelining_client(std::uint16_t port, asio::ssl::context& ctx,
                                        std::vector<std::string>& tls_replies) {
  auto executor = co_await asio::this_coro::executor;
  tcp::socket socket(executor);
  co_await socket.async_connect({asio::ip::make_address("127.0.0.1"), port}, nothrow);
  asio::streambuf in;
  auto read_reply = [&](auto& stream) -> asio::awaitable<std::string> {
    std::string reply;
    for (int i = 0; i < 20; ++i) {
      auto [ec, n] = co_await asio::async_read_until(stream, in, "\r\n", nothrow);
      if (ec) co_return reply + "<" + ec.message() + ">";
      std::string line(asio::buffers_begin(in.data()), asio::buffers_begin(in.data()) + n);
      in.consume(n);
      reply += line;
      if (line.size() < 4 || line[3] == ' ') break;
    }
    co_return reply;
  };
  co_await read_reply(socket);  // greeting
  co_await asio::async_write(socket, asio::buffer(std::string("EHLO c\r\n")), nothrow);
  co_await read_reply(socket);
  co_await asio::async_write(
      socket, asio::buffer(std::string("STARTTLS\r\nMAIL FROM:<evil@x>\r\nRCPT TO:<v@y>\r\n")),
      nothrow);
  const auto go = co_await read_reply(socket);
  if (go.rfind("220", 0) != 0) {
    tls_replies.push_back("no go-ahead: " + go);
    co_return;
  }
  asio::ssl::stream<tcp::socket&> tls(socket, ctx);
  auto [hs] = co_await tls.async_handshake(asio::ssl::stream_base::client, nothrow);
  if (hs) {
    tls_replies.push_back("handshake: " + hs.message());
    co_return;
  }
  co_await asio::async_write(tls, asio::buffer(std::string("NOOP\r\nQUIT\r\n")), nothrow);
  tls_replies.push_back(co_await read_reply(tls));
  tls_replies.push_back(co_await read_reply(tls));
}

TEST_F(Loopback, ServerDiscardsCommandsPipelinedBehindStarttls) {
  const auto port = start_server({});
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  std::vector<std::string> replies;
  asio::co_spawn(
      io_,
      [&]() -> asio::awaitable<void> {
        co_await pipelining_client(port, ctx, replies);
        acceptor_->close();
      },
      asio::detached);
  io_.run();
  // Inside TLS the first reply answers NOOP, not the injected MAIL FROM.
  ASSERT_EQ(replies.size(), 2u) << (replies.empty() ? "" : replies.front());
  EXPECT_EQ(replies[0], "250 2.0.0 Ok\r\n");
  EXPECT_EQ(replies[1], "221 2.0.0 Bye\r\n");
  EXPECT_EQ(stats_->injections_discarded, 1u);
  ASSERT_FALSE(server_log_.empty());
  EXPECT_NE(server_log_.front().find("discarded 35 plaintext bytes"), std::string::npos)
      << server_log_.front();
}

}  // namespace
}  // namespace otls
