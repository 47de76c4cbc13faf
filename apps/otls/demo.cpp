// `otls demo`: the embedded default lab. otls's SMTP server role and a STRIPTLS attacker run on
// loopback; the probe shows what opportunistic STARTTLS does and does not protect against.
#include "demo.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>

#include <fmt/core.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "otls/net/error.hpp"
#include "otls/net/relay.hpp"
#include "otls/net/server.hpp"
#include "otls/tls/cert_maker.hpp"
#include "probe.hpp"
#include "terminal.hpp"

namespace otls::app {
namespace {

using boost::asio::ip::tcp;
constexpr const char* lab_name = "mail.otls-demo.test";

struct lab_probe {
  std::string title;
  level security;
  bool through_attacker;
  core::outcome expected;
  net::client_report report;
};

// A private temporary file for the lab CA, removed when the demo ends.
class temp_file {
 public:
  explicit temp_file(const std::string& contents) {
    std::string pattern = (std::filesystem::temp_directory_path() / "otls-demo-ca-XXXXXX").string();
    const int fd = mkstemp(pattern.data());
    if (fd < 0) throw std::runtime_error("cannot create a temporary file for the lab CA");
    path_ = pattern;
    const bool written =
        ::write(fd, contents.data(), contents.size()) == static_cast<ssize_t>(contents.size());
    ::close(fd);
    if (!written) throw std::runtime_error("cannot write the lab CA to " + path_);
  }
  ~temp_file() { std::filesystem::remove(path_); }
  temp_file(const temp_file&) = delete;
  temp_file& operator=(const temp_file&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string summary(const lab_probe& p) {
  const auto& r = p.report;
  if (r.error)
    return fmt::format("{}: {}", core::to_string(net::outcome_of(r.error)), r.diag.detail);
  if (r.facts.ended_in_plaintext) return "ok, but the whole session ran in PLAINTEXT";
  if (!r.tls) return "ok";
  return fmt::format("ok: {} {}{}, certificate trusted, name matches", r.tls->version,
                     r.tls->cipher, r.tls->group.empty() ? "" : " " + r.tls->group);
}

}  // namespace

int run_demo(const demo_options& options) {
  const bool colour = colour_enabled(stdout);
  auto ca = tls::certificate_authority::create("otls demo lab CA", tls::key_kind::ecdsa_p256);
  if (!ca) throw std::runtime_error("cannot create the lab CA: " + ca.error().message());
  auto leaf = ca->issue({lab_name, "127.0.0.1"}, tls::key_kind::ecdsa_p256);
  if (!leaf)
    throw std::runtime_error("cannot issue the lab certificate: " + leaf.error().message());
  tls::server_config server_tls;
  server_tls.certificate_chain_pem = leaf->certificate_pem;
  server_tls.private_key_pem = leaf->private_key_pem;
  auto context = tls::make_server_context(server_tls);
  if (!context) throw std::runtime_error("cannot load the lab certificate");
  const temp_file ca_file(ca->certificate_pem());

  boost::asio::io_context io;
  const auto loopback = boost::asio::ip::make_address("127.0.0.1");
  tcp::acceptor server_acceptor(io, {loopback, 0});
  tcp::acceptor attacker_acceptor(io, {loopback, 0});
  const auto server_endpoint = server_acceptor.local_endpoint();
  const auto attacker_endpoint = attacker_acceptor.local_endpoint();
  const auto* smtp = proto::find_protocol("smtp");

  auto server_settings = std::make_shared<net::server_settings>();
  server_settings->dialect.hostname = lab_name;
  server_settings->tls = std::make_shared<boost::asio::ssl::context>(std::move(*context));
  server_settings->timeout = std::chrono::seconds(10);
  auto server_stats = std::make_shared<net::server_stats>();
  auto attacker_stats = std::make_shared<net::meddler_stats>();
  boost::asio::co_spawn(io, net::accept_loop(server_acceptor, *smtp, server_settings, server_stats),
                        boost::asio::detached);
  boost::asio::co_spawn(io,
                        net::meddler_loop(attacker_acceptor, server_endpoint, *smtp,
                                          std::chrono::seconds(10), attacker_stats),
                        boost::asio::detached);

  std::vector<lab_probe> probes{
      {"Direct to the server, level verify", level::verify, false, core::outcome::ok, {}},
      {"Through the attacker, level may (opportunistic)", level::may, true, core::outcome::ok, {}},
      {"Through the attacker, level verify",
       level::verify,
       true,
       core::outcome::starttls_not_supported,
       {}},
  };
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        for (auto& p : probes) {
          const auto& ep = p.through_attacker ? attacker_endpoint : server_endpoint;
          auto target = proto::resolve_target("smtp://127.0.0.1:" + std::to_string(ep.port()));
          net::client_settings settings;
          settings.timeout = std::chrono::seconds(10);
          settings.tls.ca_file = ca_file.path();
          settings.tls.servername = lab_name;
          settings.dialect.client_name = "probe.otls-demo.test";
          apply_level(p.security, settings);
          p.report = co_await net::run_client(*target, settings);
        }
        error_code ignored;
        server_acceptor.close(ignored);
        attacker_acceptor.close(ignored);
      },
      boost::asio::detached);
  io.run();

  auto b = [&](std::string_view s) { return styled(s, tone::bold, colour); };
  fmt::print("{} a STARTTLS lab on loopback, nothing leaves this machine\n\n", b("otls demo:"));
  fmt::print("  {:<10} 127.0.0.1:{}  otls's SMTP server role, certificate for {}\n", "server",
             server_endpoint.port(), lab_name);
  fmt::print("  {:<10} 127.0.0.1:{}  STRIPTLS relay: deletes STARTTLS from the EHLO reply\n",
             "attacker", attacker_endpoint.port());
  fmt::print("  {:<10} a throwaway CA made for this run, trusted only by these probes\n\n",
             "trust");

  bool as_expected = true;
  for (std::size_t i = 0; i < probes.size(); ++i) {
    const auto& p = probes[i];
    const auto got = net::outcome_of(p.report.error);
    const bool plaintext = p.report.facts.ended_in_plaintext;
    const tone t = got != core::outcome::ok ? tone::bad : plaintext ? tone::warn : tone::good;
    as_expected &= got == p.expected;
    fmt::print("{}. {}\n   -> {}  (exit code {})\n", i + 1, p.title, styled(summary(p), t, colour),
               exit_code_for(p.report));
    if (options.details) {
      print_human(stdout, p.report, p.security, colour);
      fmt::print("\n");
    }
  }
  fmt::print("\n  The attacker removed {} STARTTLS offer(s) in {} connection(s).\n\n",
             attacker_stats->offers_removed.load(), attacker_stats->connections.load());
  fmt::print("{}\n", b("What this shows:"));
  fmt::print(
      "  - Opportunistic STARTTLS (level may) is downgraded silently by anyone on the path:\n"
      "    probe 2 saw a normal server, just without STARTTLS, and talked in plaintext.\n"
      "  - Requiring TLS (levels encrypt, verify) turns the same attack into a visible failure\n"
      "    (probe 3: starttls-not-supported) instead of a leak.\n"
      "  - A mail server cannot know by itself which peers must use TLS: DANE (RFC 7672) and\n"
      "    MTA-STS (RFC 8461) let a domain publish that requirement.\n\n"
      "  Try a real server:  otls probe smtp://mx.example.org --level verify\n");
  if (!as_expected) {
    fmt::print(stderr, "otls demo: the lab did not behave as expected (see above)\n");
    return exit_internal;
  }
  return exit_ok;
}

}  // namespace otls::app
