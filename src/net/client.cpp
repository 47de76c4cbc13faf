// Client driver: connect, run the dialect, upgrade or implicit TLS, verify, report.
#include "otls/net/client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "otls/net/driver.hpp"
#include "otls/net/error.hpp"

namespace otls::net {
namespace {

using namespace boost::asio::experimental::awaitable_operators;
constexpr auto nothrow = boost::asio::as_tuple(boost::asio::use_awaitable);

std::string to_string(const tcp::endpoint& ep) {
  const auto addr = ep.address();
  return (addr.is_v6() ? "[" + addr.to_string() + "]" : addr.to_string()) + ":" +
         std::to_string(ep.port());
}

bool family_allowed(address_family family, const tcp::endpoint& ep) {
  return family == address_family::any || (family == address_family::ipv4) == ep.address().is_v4();
}

// The target's addresses of the requested family: an IP literal as is (no resolver thread),
// a name through the system resolver.
awaitable<result<std::vector<tcp::endpoint>>> resolve(const proto::target& target,
                                                      const client_settings& settings,
                                                      client_report& report) {
  std::vector<tcp::endpoint> endpoints = settings.endpoints;
  if (!endpoints.empty()) {
    // Already resolved by the caller.
  } else if (target.url.kind != core::host_kind::dns_name) {
    endpoints.emplace_back(boost::asio::ip::make_address(target.url.host), target.port);
  } else {
    auto executor = co_await boost::asio::this_coro::executor;
    tcp::resolver resolver(executor);
    boost::asio::steady_timer timer(executor, settings.timeout);
    auto resolved =
        co_await (resolver.async_resolve(target.url.host, std::to_string(target.port), nothrow) ||
                  timer.async_wait(nothrow));
    if (resolved.index() == 1) {
      report.diag.detail = "resolving " + target.url.host + " did not finish in time";
      co_return errc::timeout;
    }
    auto [resolve_error, results] = std::get<0>(resolved);
    if (resolve_error) {
      report.diag.detail = "cannot resolve " + target.url.host + ": " + resolve_error.message();
      co_return errc::resolve_failure;
    }
    for (const auto& entry : results) endpoints.push_back(entry.endpoint());
  }
  std::erase_if(endpoints,
                [&](const tcp::endpoint& ep) { return !family_allowed(settings.family, ep); });
  if (endpoints.empty()) {
    report.diag.detail = target.url.host + " has no address of the requested family";
    co_return errc::resolve_failure;
  }
  co_return endpoints;
}

// Connects to the first of the target's addresses that accepts.
awaitable<result<tcp::socket>> connect_any(const proto::target& target,
                                           const client_settings& settings, client_report& report) {
  auto endpoints = co_await resolve(target, settings, report);
  if (!endpoints) co_return endpoints.error();
  auto socket = co_await connect_first(*endpoints, settings.timeout, report.attempts);
  const auto& last = report.attempts.back();
  if (socket)
    report.address = last.address;
  else
    report.diag.detail = "connection to " + last.address + " failed: " + last.error.message();
  co_return socket;
}

// TLS on the current connection: handshake, inspect, and (at verifying levels) verify.
awaitable<error_code> start_tls(upgradable_stream& stream, boost::asio::ssl::context& context,
                                const client_settings& settings, client_report& report) {
  const auto ec =
      co_await stream.handshake(context, boost::asio::ssl::stream_base::client, settings.timeout,
                                [&](SSL* ssl) { tls::prepare_client(ssl, settings.tls); });
  if (ec == errc::timeout) {
    report.diag.detail = "the TLS handshake did not finish in time";
    co_return ec;
  }
  if (ec) {
    std::string detail;
    const auto classified = tls::classify_handshake_error(ec, detail);
    report.diag.detail = detail;
    co_return classified;
  }
  report.tls = tls::inspect(stream.tls_handle(), settings.tls);
  if (settings.verify_certificate) {
    if (auto verify_error = tls::verification_error(report.tls->verify)) {
      report.diag.detail = report.tls->verify.error.empty()
                               ? verify_error.message()
                               : verify_error.message() + ": " + report.tls->verify.error;
      co_return verify_error;
    }
  } else if (!report.tls->verify.trusted || !report.tls->verify.hostname_match) {
    report.warnings.push_back("certificate not verified (level encrypt): " +
                              (report.tls->verify.error.empty()
                                   ? std::string("the name does not match")
                                   : report.tls->verify.error));
  }
  co_return error_code{};
}

awaitable<void> run_session(proto::target& target, client_settings& settings,
                            client_report& report) {
  if (settings.tls.servername.empty()) settings.tls.servername = target.url.host;
  if (settings.tls.alpn.empty() && !target.proto->alpn.empty())
    settings.tls.alpn.emplace_back(target.proto->alpn);
  report.reference_name = settings.tls.servername;
  settings.dialect.implicit_tls = target.proto->implicit_tls;
  if (settings.dialect.server_name.empty()) settings.dialect.server_name = target.url.host;
  settings.dialect.server_port = target.port;
  report.implicit_tls = target.proto->implicit_tls;

  auto context = tls::make_client_context(settings.tls);
  if (!context) {
    report.error = context.error();
    report.diag.detail = context.error().message() + " (" + settings.tls.ca_file + ")";
    co_return;
  }
  auto socket = co_await connect_any(target, settings, report);
  if (!socket) {
    report.error = socket.error();
    co_return;
  }
  upgradable_stream stream(std::move(*socket));
  if (report.implicit_tls) {
    if ((report.error = co_await start_tls(stream, *context, settings, report))) {
      stream.close();
      co_return;
    }
  }

  auto dialect = target.proto->make_client(settings.dialect);
  const upgrade_handler upgrade = [&](std::string leftover) -> awaitable<error_code> {
    // Rule 1: nothing may follow the go-ahead; a meddler's injected replies would otherwise
    // be read as if they came from inside TLS (CVE-2011-0411 and kin).
    if (!leftover.empty()) {
      report.leftover_plaintext = std::move(leftover);
      report.diag.detail = "the server (or a meddler) sent " +
                           std::to_string(report.leftover_plaintext.size()) +
                           " bytes after the STARTTLS go-ahead; no handshake attempted";
      co_return errc::response_injection;
    }
    co_return co_await start_tls(stream, *context, settings, report);
  };
  data_channel data(stream, *context, settings.tls, settings.verify_certificate, settings.timeout);
  const error_code ec = co_await run_dialect(stream, *dialect, upgrade, settings.timeout,
                                             deadline::per_exchange, &data);
  report.data_channel = data.report();
  if (report.data_channel) {
    auto& warnings = report.data_channel->warnings;
    const auto& advertised = report.data_channel->advertised;
    if (!advertised.empty() && !report.data_channel->address.starts_with(advertised + ":"))
      warnings.push_back("the PASV reply named " + advertised +
                         "; otls connected to the control connection's address instead");
    report.warnings.insert(report.warnings.end(), warnings.begin(), warnings.end());
  }
  report.facts = dialect->facts();
  report.warnings.insert(report.warnings.end(), report.facts.warnings.begin(),
                         report.facts.warnings.end());
  if (ec) {
    report.error = ec;
    if (!dialect->diag().peer_text.empty()) report.diag.peer_text = dialect->diag().peer_text;
    if (report.diag.detail.empty()) report.diag.detail = dialect->diag().detail;
    if (report.data_channel && !report.data_channel->failure.empty())
      report.diag.detail += " (" + report.data_channel->failure + ")";
    if (report.diag.detail.empty() && ec == errc::timeout)
      report.diag.detail = "no complete reply within the time limit";
  } else if (report.facts.ended_in_plaintext && report.facts.warnings.empty()) {
    // The dialect had nothing more specific to say: say it generically.
    report.diag.peer_text = dialect->diag().peer_text;
    report.warnings.push_back(
        std::string(report.facts.starttls_offered ? "STARTTLS refused by the server"
                                                  : "STARTTLS not offered") +
        ": the session continued in PLAINTEXT (level may); an active attacker can cause this");
  }
  co_await stream.shutdown(duration(200));
}

}  // namespace

awaitable<result<tcp::socket>> connect_first(const std::vector<tcp::endpoint>& endpoints,
                                             duration timeout,
                                             std::vector<connect_attempt>& attempts) {
  auto executor = co_await boost::asio::this_coro::executor;
  boost::asio::steady_timer timer(executor);
  for (const auto& ep : endpoints) {
    tcp::socket socket(executor);
    timer.expires_after(timeout);
    auto connected = co_await (socket.async_connect(ep, nothrow) || timer.async_wait(nothrow));
    const error_code ec =
        connected.index() == 1 ? error_code(errc::timeout) : std::get<0>(std::get<0>(connected));
    attempts.push_back({to_string(ep), ec});
    if (!ec) co_return std::move(socket);
  }
  if (attempts.empty() || attempts.back().error != errc::timeout) co_return errc::connect_failure;
  co_return errc::timeout;
}

awaitable<client_report> run_client(proto::target target, client_settings settings) {
  const auto started = std::chrono::steady_clock::now();
  client_report report;
  report.target = target;
  co_await run_session(target, settings, report);
  report.elapsed = std::chrono::duration_cast<duration>(std::chrono::steady_clock::now() - started);
  co_return report;
}

}  // namespace otls::net
