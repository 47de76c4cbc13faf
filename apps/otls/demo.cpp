// `otls demo`: the embedded default lab. otls's own server roles and STRIPTLS attackers run on
// loopback; probes show what opportunistic STARTTLS does and does not protect against.
#include "demo.hpp"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <list>
#include <memory>
#include <optional>

#include <fmt/core.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "otls/net/error.hpp"
#include "otls/net/relay.hpp"
#include "otls/net/server.hpp"
#include "otls/proto/imap/offer_stripper.hpp"
#include "otls/tls/cert_maker.hpp"
#include "probe.hpp"
#include "terminal.hpp"

namespace otls::app {
namespace {

using boost::asio::ip::tcp;
constexpr const char* lab_name = "mail.otls-demo.test";
constexpr std::chrono::seconds lab_timeout{10};

// One attack the lab can put between probe and server.
struct attack {
  std::string name;  // "STRIPTLS", "PREAUTH"
  net::rewriter_factory make_rewriter;
  core::outcome at_verify;  // what a TLS-requiring probe must report through it
};

// A protocol in the lab: the label shown, and the attacks run against it.
struct lab_protocol {
  std::string scheme;
  std::string label;
  std::vector<attack> attacks;
};

std::vector<lab_protocol> lab_protocols() {
  const auto stripper = [](std::string_view scheme) {
    return net::rewriter_factory(proto::find_protocol(scheme)->make_stripper);
  };
  return {
      {"smtp", "SMTP", {{"STRIPTLS", stripper("smtp"), core::outcome::starttls_not_supported}}},
      {"imap",
       "IMAP",
       {{"STRIPTLS", stripper("imap"), core::outcome::starttls_not_supported},
        {"PREAUTH", [] { return std::make_unique<proto::imap::preauth_injector>(); },
         core::outcome::preauth_plaintext}}},
      {"pop3", "POP3", {{"STRIPTLS", stripper("pop3"), core::outcome::starttls_not_supported}}},
  };
}

struct probe_case {
  std::string scheme;
  std::string protocol_label;
  std::string route;  // "direct" or the attack's name
  level security;
  std::uint16_t port;
  core::outcome expected;
  bool expect_plaintext;
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

std::string summary(const probe_case& p) {
  const auto& r = p.report;
  if (r.error)
    return fmt::format("{}: {}", core::to_string(net::outcome_of(r.error)), r.error.message());
  if (r.facts.ended_in_plaintext) return "ok, but the whole session ran in PLAINTEXT";
  if (!r.tls) return "ok";
  return fmt::format("ok: {} {}{}, certificate trusted, name matches", r.tls->version,
                     r.tls->cipher, r.tls->group.empty() ? "" : " " + r.tls->group);
}

std::shared_ptr<boost::asio::ssl::context> lab_tls_context(const tls::certificate_authority& ca) {
  auto leaf = ca.issue({lab_name, "127.0.0.1"}, tls::key_kind::ecdsa_p256);
  if (!leaf)
    throw std::runtime_error("cannot issue the lab certificate: " + leaf.error().message());
  tls::server_config config;
  config.certificate_chain_pem = leaf->certificate_pem;
  config.private_key_pem = leaf->private_key_pem;
  auto context = tls::make_server_context(config);
  if (!context) throw std::runtime_error("cannot load the lab certificate");
  return std::make_shared<boost::asio::ssl::context>(std::move(*context));
}

}  // namespace

int run_demo(const demo_options& options) {
  const bool colour = colour_enabled(stdout);
  auto ca = tls::certificate_authority::create("otls demo lab CA", tls::key_kind::ecdsa_p256);
  if (!ca) throw std::runtime_error("cannot create the lab CA: " + ca.error().message());
  const temp_file ca_file(ca->certificate_pem());

  boost::asio::io_context io(1);
  const auto loopback = boost::asio::ip::make_address("127.0.0.1");
  auto server_settings = std::make_shared<net::server_settings>();
  server_settings->dialect.hostname = lab_name;
  server_settings->tls = lab_tls_context(*ca);
  server_settings->timeout = lab_timeout;
  auto server_stats = std::make_shared<net::server_stats>();
  auto attacker_stats = std::make_shared<net::meddler_stats>();

  // Every listener lives until the probes are done; std::list keeps references stable.
  std::list<tcp::acceptor> acceptors;
  std::vector<probe_case> cases;
  for (const auto& lab : lab_protocols()) {
    const auto* protocol = proto::find_protocol(lab.scheme);
    auto& server = acceptors.emplace_back(io, tcp::endpoint(loopback, 0));
    const auto server_endpoint = server.local_endpoint();
    boost::asio::co_spawn(io, net::accept_loop(server, *protocol, server_settings, server_stats),
                          boost::asio::detached);
    cases.push_back({lab.scheme,
                     lab.label,
                     "direct",
                     level::verify,
                     server_endpoint.port(),
                     core::outcome::ok,
                     false,
                     {}});
    for (const auto& a : lab.attacks) {
      auto& attacker = acceptors.emplace_back(io, tcp::endpoint(loopback, 0));
      boost::asio::co_spawn(io,
                            net::meddler_loop(attacker, server_endpoint, a.make_rewriter,
                                              lab_timeout, attacker_stats),
                            boost::asio::detached);
      const auto port = attacker.local_endpoint().port();
      cases.push_back(
          {lab.scheme, lab.label, a.name, level::may, port, core::outcome::ok, true, {}});
      cases.push_back({lab.scheme, lab.label, a.name, level::verify, port, a.at_verify, false, {}});
    }
  }

  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        for (auto& c : cases) {
          auto target = proto::resolve_target(c.scheme + "://127.0.0.1:" + std::to_string(c.port));
          net::client_settings settings;
          settings.timeout = lab_timeout;
          settings.tls.ca_file = ca_file.path();
          settings.tls.servername = lab_name;
          settings.dialect.client_name = "probe.otls-demo.test";
          apply_level(c.security, settings);
          c.report = co_await net::run_client(*target, settings);
        }
        for (auto& a : acceptors) {
          error_code ignored;
          a.close(ignored);
        }
      },
      boost::asio::detached);
  io.run();

  auto bold = [&](std::string_view s) { return styled(s, tone::bold, colour); };
  fmt::print("{} a STARTTLS lab on loopback, nothing leaves this machine\n\n", bold("otls demo:"));
  fmt::print("  {:<10} otls's own server roles on 127.0.0.1, certificate for {}\n", "servers",
             lab_name);
  fmt::print(
      "  {:<10} relays that rewrite what the server says: STRIPTLS deletes the STARTTLS\n"
      "  {:<10} offer; PREAUTH turns an IMAP greeting into a pre-authenticated one\n",
      "attackers", "");
  fmt::print("  {:<10} a throwaway CA made for this run, trusted only by these probes\n", "trust");

  bool as_expected = true;
  std::string shown_label;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto& c = cases[i];
    if (c.protocol_label != shown_label) {
      fmt::print("\n{}  {:<22} {:<7} {:<5}  {}\n", bold(fmt::format("{:<4}", c.protocol_label)),
                 "route", "level", "exit", "result");
      shown_label = c.protocol_label;
    }
    const auto got = net::outcome_of(c.report.error);
    const bool plaintext = c.report.facts.ended_in_plaintext;
    as_expected &= got == c.expected && plaintext == c.expect_plaintext;
    const tone t = got != core::outcome::ok ? tone::bad : plaintext ? tone::warn : tone::good;
    const std::string route = c.route == "direct" ? "direct" : "via " + c.route + " attacker";
    fmt::print("  {:>2}. {:<22} {:<7} {:<5}  {}\n", i + 1, route, to_string(c.security),
               exit_code_for(c.report), styled(summary(c), t, colour));
    if (options.details) {
      print_human(stdout, c.report, c.security, colour);
      fmt::print("\n");
    }
  }
  fmt::print("\n  The attackers rewrote {} server replies in {} connections.\n\n",
             attacker_stats->offers_removed.load(), attacker_stats->connections.load());
  fmt::print("{}\n", bold("What this shows:"));
  fmt::print(
      "  - Opportunistic STARTTLS (level may) is downgraded silently by anyone on the path:\n"
      "    the probe saw a normal server, just without STARTTLS, and talked in plaintext.\n"
      "  - Requiring TLS (levels encrypt, verify) turns the same attack into a visible failure\n"
      "    (starttls-not-supported) instead of a leak.\n"
      "  - Removing the offer is not the only trick: an IMAP greeting rewritten to PREAUTH\n"
      "    claims the session is already logged in, so STARTTLS can never happen; a client\n"
      "    that requires TLS must hang up (preauth-plaintext, RFC 9051).\n");
  fmt::print(
      "  - A mail server cannot know by itself which peers must use TLS: DANE (RFC 7672) and\n"
      "    MTA-STS (RFC 8461) let a domain publish that requirement; for mail access, implicit\n"
      "    TLS on 465/993/995 (RFC 8314) leaves nothing to strip.\n\n"
      "  Try a real server:  otls probe smtp://mx.example.org --level verify\n");
  if (!as_expected) {
    fmt::print(stderr, "otls demo: the lab did not behave as expected (see above)\n");
    return exit_internal;
  }
  return exit_ok;
}

}  // namespace otls::app
