// `otls probe URL`: greet, upgrade (or implicit TLS), handshake, verify, report.
#include "probe.hpp"

#include <cstdio>
#include <stdexcept>

#include <fmt/core.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "dane_report.hpp"
#include "otls/net/error.hpp"
#include "otls/tls/tls.hpp"
#include "terminal.hpp"

namespace otls::app {

const char* const exit_code_help =
    "Exit codes:\n"
    "  0   the requested level was met\n"
    "  1   internal error\n"
    "  2   connection failure (name did not resolve, no address accepted)\n"
    "  3   STARTTLS not offered, or made impossible (IMAP PREAUTH in plaintext)\n"
    "  4   STARTTLS refused by the server (FTP: also PBSZ/PROT P refused)\n"
    "  5   TLS handshake failure (including a server that speaks only legacy TLS)\n"
    "  6   certificate verification failure (untrusted, expired, name mismatch)\n"
    "  7   protocol error (garbage, oversized line, early close, service refused)\n"
    "  8   timeout\n"
    "  9   response injection (plaintext after the STARTTLS go-ahead)\n"
    "  10  DNS failure: bogus DNSSEC answer, a resolver that cannot validate, SERVFAIL\n"
    "  11  DANE required (level dane-only) but no DNSSEC-validated TLSA records\n"
    "  12  the domain accepts no mail (null MX, or no mail host at all)\n"
    "  13  MTA-STS: the MX host is not in the enforced policy, or the policy is unusable\n"
    "  14  FTP: the login was refused, or the data connection failed (--user, --data)\n"
    "  64  usage error (bad URL, bad option, unreadable CA file)\n";

level parse_level(const std::string& text) {
  if (text == "may") return level::may;
  if (text == "encrypt") return level::encrypt;
  if (text == "verify") return level::verify;
  if (text == "dane") return level::dane;
  if (text == "dane-only") return level::dane_only;
  throw std::invalid_argument("unknown level '" + text +
                              "' (expected may, encrypt, verify, dane or dane-only)");
}

std::string_view to_string(level l) {
  switch (l) {
    case level::may:
      return "may";
    case level::encrypt:
      return "encrypt";
    case level::verify:
      return "verify";
    case level::dane:
      return "dane";
    case level::dane_only:
      return "dane-only";
  }
  return "verify";
}

bool wants_dane(level l) {
  return l == level::dane || l == level::dane_only;
}

policy::dane_fallback fallback_of(level l) {
  switch (l) {
    case level::may:
    case level::dane:
      return policy::dane_fallback::may;
    case level::encrypt:
      return policy::dane_fallback::encrypt;
    case level::verify:
      return policy::dane_fallback::verify;
    case level::dane_only:
      return policy::dane_fallback::refuse;
  }
  return policy::dane_fallback::refuse;
}

void apply_level(level l, net::client_settings& settings) {
  settings.dialect.require_tls = l != level::may && l != level::dane;
  settings.verify_certificate = l == level::verify;
}

core::outcome probe_result::outcome() const {
  return refusal ? *refusal : net::outcome_of(report.error);
}

int exit_code_for(const net::client_report& report) {
  if (report.error == tls::errc::bad_ca_file) return exit_usage;
  return exit_code_for(net::outcome_of(report.error));
}

int exit_code_for(core::outcome o) {
  using core::outcome;
  switch (o) {
    case outcome::ok:
      return exit_ok;
    case outcome::connect_failure:
      return exit_connect;
    case outcome::starttls_not_supported:
    case outcome::preauth_plaintext:
      return exit_starttls_not_offered;
    case outcome::starttls_rejected:
    case outcome::data_protection_refused:
      return exit_starttls_refused;
    case outcome::handshake_failure:
      return exit_handshake;
    case outcome::certificate_host_mismatch:
    case outcome::certificate_expired:
    case outcome::certificate_not_trusted:
    case outcome::validation_failure:
    case outcome::tlsa_invalid:
      return exit_verification;
    case outcome::dnssec_invalid:
    case outcome::resolver_cannot_validate:
    case outcome::dns_failure:
      return exit_dns;
    case outcome::dane_required:
      return exit_dane_required;
    case outcome::no_mail:
      return exit_no_mail;
    case outcome::sts_policy_fetch_error:
    case outcome::sts_policy_invalid:
    case outcome::sts_webpki_invalid:
    case outcome::mx_not_in_policy:
      return exit_policy;
    case outcome::login_failed:
    case outcome::data_channel_failure:
      return exit_ftp_session;
    case outcome::timeout:
      return exit_timeout;
    case outcome::response_injection:
      return exit_injection;
    case outcome::service_unavailable:
    case outcome::protocol_error:
      return exit_protocol;
  }
  return exit_internal;
}

namespace {

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : std::string(sep)) + item;
  return out;
}

nlohmann::json certificate_json(const tls::certificate_info& c) {
  return {{"subject", c.subject},
          {"issuer", c.issuer},
          {"dns_names", c.dns_names},
          {"ip_addresses", c.ip_addresses},
          {"not_before", c.not_before},
          {"not_after", c.not_after},
          {"key_type", c.key_type},
          {"key_bits", c.key_bits},
          {"signature_algorithm", c.signature_algorithm},
          {"sha256_fingerprint", c.sha256_fingerprint},
          {"spki_sha256", c.spki_sha256}};
}

// OpenSSL's chain error, else the name mismatch; null when the certificate verified.
nlohmann::json certificate_error(const net::client_report& report) {
  const auto& v = report.tls->verify;
  if (!v.error.empty()) return v.error;
  if (!v.hostname_match) return "certificate does not match " + report.reference_name;
  return nullptr;
}

// FTP --data: where the data connection went, how it was protected, what it carried.
nlohmann::json data_channel_json(const net::client_report& report) {
  using nlohmann::json;
  if (!report.data_channel && !report.facts.data) return nullptr;
  json out;
  if (const auto& channel = report.data_channel) {
    out["address"] = channel->address;
    out["advertised"] = channel->advertised.empty() ? json(nullptr) : json(channel->advertised);
    out["protected"] = channel->tls;
    out["tls"] = channel->tls_facts ? json{{"version", channel->tls_facts->version},
                                           {"cipher", channel->tls_facts->cipher},
                                           {"resumed", channel->tls_facts->resumed}}
                                    : json(nullptr);
  }
  if (const auto& data = report.facts.data) {
    out["command"] = data->command;
    out["bytes"] = data->bytes;
    out["lines"] = data->lines;
  } else {
    out["command"] = nullptr;
    out["bytes"] = nullptr;
    out["lines"] = nullptr;
  }
  return out;
}

nlohmann::json srv_json(const policy::service_facts& srv) {
  nlohmann::json targets = nlohmann::json::array();
  for (const auto& t : srv.targets)
    targets.push_back(
        {{"host", t.host}, {"port", t.port}, {"priority", t.priority}, {"weight", t.weight}});
  return {{"name", srv.name},
          {"dnssec", dns::to_string(srv.dnssec)},
          {"route", policy::to_string(srv.route)},
          {"targets", targets},
          {"detail", srv.detail.empty() ? nlohmann::json(nullptr) : nlohmann::json(srv.detail)}};
}

}  // namespace

nlohmann::json to_json(const net::client_report& report, level l) {
  using nlohmann::json;
  json out;
  out["target"] = report.target.to_string();
  out["protocol"] = report.target.proto ? std::string(report.target.proto->family) : "";
  out["address"] = report.address.empty() ? json(nullptr) : json(report.address);
  out["mode"] = report.implicit_tls ? "implicit" : "starttls";
  out["level"] = to_string(l);
  out["banner"] = join(report.facts.banner, "\n");
  out["capabilities"] = {{"before_tls", report.facts.capabilities_before_tls},
                         {"after_tls", report.facts.capabilities_after_tls}};
  out["starttls"] = report.implicit_tls ? json(nullptr)
                                        : json{{"offered", report.facts.starttls_offered},
                                               {"accepted", report.facts.starttls_accepted}};
  if (report.tls) {
    const auto& t = *report.tls;
    out["tls"] = {{"version", t.version},
                  {"cipher", t.cipher},
                  {"group", t.group.empty() ? json(nullptr) : json(t.group)},
                  {"forward_secrecy", t.forward_secrecy},
                  {"alpn", t.alpn.empty() ? json(nullptr) : json(t.alpn)}};
    json chain = json::array();
    for (const auto& c : t.chain) chain.push_back(certificate_json(c));
    out["certificate"] = {{"chain", chain},
                          {"trusted", t.verify.trusted},
                          {"hostname_match", t.verify.hostname_match},
                          {"reference_name", report.reference_name},
                          {"error", certificate_error(report)}};
  } else {
    out["tls"] = nullptr;
    out["certificate"] = nullptr;
  }
  out["login"] =
      report.facts.logged_in_as.empty() ? json(nullptr) : json(report.facts.logged_in_as);
  out["data_channel"] = data_channel_json(report);
  out["outcome"] = core::to_string(net::outcome_of(report.error));
  if (report.error) {
    out["error"] = {{"message", report.error.message()},
                    {"detail", report.diag.detail},
                    {"peer_text", report.diag.peer_text}};
  } else {
    out["error"] = nullptr;
  }
  if (!report.leftover_plaintext.empty()) out["injected_bytes"] = report.leftover_plaintext.size();
  out["warnings"] = report.warnings;
  json attempts = json::array();
  for (const auto& a : report.attempts)
    attempts.push_back(
        {{"address", a.address}, {"error", a.error ? json(a.error.message()) : json(nullptr)}});
  out["attempts"] = attempts;
  out["elapsed_ms"] = report.elapsed.count();
  return out;
}

nlohmann::json to_json(const probe_result& result, level l) {
  auto out = to_json(result.report, l);
  if (result.refusal) {
    out["outcome"] = core::to_string(*result.refusal);
    out["error"] = {{"message", "not connected: " + std::string(core::to_string(*result.refusal))},
                    {"detail", result.refusal_detail},
                    {"peer_text", nlohmann::json::array()}};
  }
  out["dane"] = result.dane ? dane_probe_json(result) : nlohmann::json(nullptr);
  out["srv"] = result.srv ? srv_json(*result.srv) : nlohmann::json(nullptr);
  out["report_only"] = result.report_only;
  if (result.report.tls && result.report.tls->pkix_report) {
    const auto& v = *result.report.tls->pkix_report;
    const auto ec = tls::verification_error(v);
    out["pkix_report"] = {
        {"trusted", v.trusted},
        {"hostname_match", v.hostname_match},
        {"outcome", core::to_string(net::outcome_of(ec))},
        {"error", v.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(v.error)}};
  } else {
    out["pkix_report"] = nullptr;
  }
  return out;
}

void print_human(std::FILE* out, const net::client_report& report, level l, bool colour) {
  probe_result result;
  result.report = report;
  print_human(out, result, l, colour);
}

void print_human(std::FILE* out, const probe_result& result, level l, bool colour) {
  const auto& report = result.report;
  auto row = [&](std::string_view key, const std::string& value, tone t = tone::plain) {
    fmt::print(out, "  {:<16} {}\n", key, styled(printable(value), t, colour));
  };
  const auto outcome = result.outcome();
  fmt::print(out, "{} {}  (level {})\n", styled("otls probe", tone::bold, colour),
             report.target.to_string(), to_string(l));
  if (const auto& srv = result.srv) {
    std::string targets;
    for (const auto& t : srv->targets)
      targets += (targets.empty() ? "" : ", ") + t.host + ":" + std::to_string(t.port);
    row("SRV",
        srv->name + (targets.empty() ? " (" + std::string(policy::to_string(srv->route)) + ")"
                                     : " -> " + targets));
  }
  if (!report.address.empty()) row("address", report.address);
  for (const auto& a : report.attempts)
    if (a.error) row("tried", a.address + ": " + a.error.message(), tone::dim);
  if (!report.facts.banner.empty()) row("banner", join(report.facts.banner, " / "));
  if (!report.facts.capabilities_before_tls.empty())
    row("before TLS", join(report.facts.capabilities_before_tls, ", "));
  if (!report.implicit_tls && !report.facts.banner.empty()) {
    if (!report.facts.starttls_offered)
      row("STARTTLS", "not offered",
          fallback_of(l) == policy::dane_fallback::may ? tone::warn : tone::bad);
    else
      row("STARTTLS", report.facts.starttls_accepted ? "offered, accepted" : "offered, refused",
          report.facts.starttls_accepted ? tone::good : tone::bad);
  } else if (report.implicit_tls) {
    row("mode", "implicit TLS");
  }
  if (report.tls) {
    const auto& t = *report.tls;
    row("TLS", fmt::format("{} {}{}{}", t.version, t.cipher, t.group.empty() ? "" : " " + t.group,
                           t.alpn.empty() ? "" : ", ALPN " + t.alpn));
    row("forward secrecy", t.forward_secrecy ? "yes" : "no",
        t.forward_secrecy ? tone::good : tone::warn);
    if (!t.chain.empty()) {
      const auto& leaf = t.chain.front();
      row("certificate", leaf.subject);
      if (!leaf.dns_names.empty() || !leaf.ip_addresses.empty()) {
        std::vector<std::string> names = leaf.dns_names;
        names.insert(names.end(), leaf.ip_addresses.begin(), leaf.ip_addresses.end());
        row("  names", join(names, ", "));
      }
      row("  key",
          fmt::format("{} {} bits, {}", leaf.key_type, leaf.key_bits, leaf.signature_algorithm));
      row("  valid", leaf.not_before + " .. " + leaf.not_after);
      row("  issuer", leaf.issuer);
      row("  sha256", leaf.sha256_fingerprint, tone::dim);
    }
    row("trusted", t.verify.trusted ? "yes" : "no (" + t.verify.error + ")",
        t.verify.trusted ? tone::good : tone::bad);
    const int matched = matched_tlsa_index(result);
    if (matched >= 0 && result.dane->tlsa[static_cast<std::size_t>(matched)].record.usage == 3) {
      // RFC 7672 §3.1.1: a DANE-EE match binds the key; names are not checked.
      row("name match", "not required (DANE-EE)", tone::dim);
    } else {
      row("name match", (t.verify.hostname_match ? "yes (" : "no (") + report.reference_name + ")",
          t.verify.hostname_match ? tone::good : tone::bad);
    }
  }
  if (!report.facts.capabilities_after_tls.empty())
    row("after TLS", join(report.facts.capabilities_after_tls, ", "));
  if (!report.facts.logged_in_as.empty()) row("login", report.facts.logged_in_as + ", inside TLS");
  if (const auto& channel = report.data_channel) {
    row("data", channel->address + (channel->tls ? ", PROT P" : ", PROT C (plaintext)"),
        channel->tls ? tone::plain : tone::warn);
    if (const auto& t = channel->tls_facts)
      row("  TLS",
          t->version + " " + t->cipher + (t->resumed ? ", session resumed" : ", full handshake"));
    if (const auto& data = report.facts.data)
      row("  " + data->command, fmt::format("{} bytes, {} lines", data->bytes, data->lines.size()));
  }
  if (result.dane) print_dane_rows(row, result);
  for (const auto& w : report.warnings) row("warning", w, tone::warn);
  if (result.refusal) {
    row("outcome", std::string(core::to_string(outcome)), tone::bad);
    row("why", result.refusal_detail);
  } else if (report.error) {
    row("outcome", std::string(core::to_string(outcome)), tone::bad);
    if (!report.diag.detail.empty()) row("why", report.diag.detail);
    for (const auto& line : report.diag.peer_text) row("server said", line, tone::dim);
  } else {
    row("outcome", "ok", tone::good);
  }
  if (!result.refusal) row("elapsed", std::to_string(report.elapsed.count()) + " ms", tone::dim);
}

awaitable<probe_result> probe_planned(proto::target target, net::client_settings settings,
                                      policy::connection_plan plan, policy::host_facts facts) {
  probe_result result;
  result.report.target = target;
  result.dane = std::move(facts);
  result.report_only = plan.report_only;
  if (!plan.connect) {
    result.refusal = plan.refusal;
    result.refusal_detail = plan.detail;
    co_return result;
  }
  settings.dialect.require_tls = plan.require_tls;
  settings.verify_certificate =
      plan.verify_pkix || plan.dane.has_value() || !plan.fingerprints.empty();
  if (!plan.servername.empty()) settings.tls.servername = plan.servername;  // RFC 7672 §8.1
  settings.tls.dane = plan.dane;
  settings.tls.fingerprints = plan.fingerprints;
  settings.tls.pkix_report_name = plan.pkix_report_name;
  if (settings.endpoints.empty()) {
    for (const auto& a : result.dane->addresses) settings.endpoints.emplace_back(a, target.port);
  }
  // Report-only (MTA-STS testing): deliver as a sender would, so the session runs to its end
  // unverified; the verification that would have failed is recorded afterwards.
  if (plan.report_only) settings.verify_certificate = false;
  result.report = co_await net::run_client(target, settings);
  if (plan.report_only && !result.report.error && result.report.tls) {
    if (const auto ec = tls::verification_error(result.report.tls->verify)) {
      result.report.error = ec;
      result.report.diag.detail = ec.message() + (result.report.tls->verify.error.empty()
                                                      ? std::string()
                                                      : ": " + result.report.tls->verify.error);
      std::erase_if(result.report.warnings,
                    [](const std::string& w) { return w.starts_with("certificate not verified"); });
    }
  }
  auto& warnings = result.report.warnings;
  warnings.insert(warnings.begin(), plan.warnings.begin(), plan.warnings.end());
  warnings.insert(warnings.begin(), result.dane->warnings.begin(), result.dane->warnings.end());
  co_return result;
}

result<std::unique_ptr<dns::unbound_resolver>> make_resolver(boost::asio::any_io_executor ex,
                                                             const dns_settings& dns,
                                                             net::duration timeout) {
  dns::unbound_options options;
  options.resolver = dns.resolver;
  options.trust_anchor = dns.trust_anchor;
  options.timeout = timeout;
  return dns::unbound_resolver::create(std::move(ex), options);
}

namespace {

// `otls probe URL --dane`: the URL's host and port name the TLSA RRset (_PORT._tcp.HOST).
awaitable<probe_result> probe_with_dane(proto::target target, probe_options options,
                                        dns::resolver& resolver) {
  const auto mode = target.proto->family == std::string_view("smtp") ? policy::dane_mode::smtp
                                                                     : policy::dane_mode::generic;
  policy::address_families families;
  families.v4 = options.settings.family != net::address_family::ipv6;
  families.v6 = options.settings.family != net::address_family::ipv4;
  auto facts =
      co_await policy::lookup_host(resolver, target.url.host, target.port, mode, families, true);
  auto plan = policy::plan_connection(facts, fallback_of(options.security));
  co_return co_await probe_planned(std::move(target), std::move(options.settings), std::move(plan),
                                   std::move(facts));
}

// A URL without a port whose scheme locates its service by SRV (XMPP, RFC 6120 §3.2,
// XEP-0368): the SRV targets in RFC 2782 order, each host's addresses looked up, the
// certificate still checked against the URL's host. No SRV records: the host on its default
// port; a failed lookup falls back too, with a warning; "." means no such service.
awaitable<probe_result> probe_with_srv(proto::target target, probe_options options,
                                       dns::resolver& resolver) {
  probe_result result;
  result.report.target = target;
  auto srv = co_await policy::lookup_service(resolver, target.proto->srv_service, target.url.host,
                                             policy::random_weight_pick());
  std::vector<std::string> warnings;
  if (srv.route == policy::service_route::no_service) {
    result.refusal = core::outcome::connect_failure;
    result.refusal_detail = srv.detail;
    result.srv = std::move(srv);
    co_return result;
  }
  if (srv.route == policy::service_route::failed) warnings.push_back(srv.detail);
  policy::address_families families;
  families.v4 = options.settings.family != net::address_family::ipv6;
  families.v6 = options.settings.family != net::address_family::ipv4;
  // Without SRV targets, the domain itself on the scheme's default port, through the same
  // resolver (RFC 6120 §3.2.2).
  auto targets = srv.targets;
  if (targets.empty()) targets.push_back({target.url.host, target.port, 0, 0});
  for (const auto& t : targets) {
    const auto host = co_await policy::lookup_host(resolver, t.host, t.port,
                                                   policy::dane_mode::generic, families, false);
    for (const auto& a : host.addresses) options.settings.endpoints.emplace_back(a, t.port);
    if (host.addresses.empty())
      warnings.push_back(t.host + " has no usable address" +
                         (host.detail.empty() ? "" : ": " + host.detail));
  }
  if (options.settings.endpoints.empty()) {
    result.refusal = core::outcome::connect_failure;
    result.refusal_detail =
        srv.route == policy::service_route::srv
            ? "no SRV target of " + srv.name + " has an address"
            : target.url.host + " has no address" +
                  (srv.route == policy::service_route::failed ? " (and the SRV lookup failed)"
                                                              : " (and no SRV records)");
    result.report.warnings = std::move(warnings);
    result.srv = std::move(srv);
    co_return result;
  }
  result.report = co_await net::run_client(target, options.settings);
  result.report.warnings.insert(result.report.warnings.begin(), warnings.begin(), warnings.end());
  result.srv = std::move(srv);
  co_return result;
}

}  // namespace

int run_probe(probe_options options) {
  auto target = proto::resolve_target(options.url);
  if (!target) {
    fmt::print(stderr, "otls probe: {}: {}\n", options.url, target.error().message());
    return exit_usage;
  }
  const auto& dialect = options.settings.dialect;
  if ((dialect.log_in || dialect.transfer_data) && target->proto->family != "ftp") {
    fmt::print(stderr, "otls probe: --data and --user are for ftp:// and ftps:// only\n");
    return exit_usage;
  }
  apply_level(options.security, options.settings);
  const bool dane = options.dane || wants_dane(options.security);
  if (dane && target->url.kind != core::host_kind::dns_name) {
    fmt::print(stderr, "otls probe: --dane needs a host name: an IP address has no TLSA records\n");
    return exit_usage;
  }
  const bool srv = !dane && !options.no_srv && !target->proto->srv_service.empty() &&
                   !target->url.port && target->url.kind == core::host_kind::dns_name;
  boost::asio::io_context io(1);  // one thread: lets asio skip its internal locking
  std::unique_ptr<dns::unbound_resolver> resolver;
  if (dane || srv) {
    auto made = make_resolver(io.get_executor(), options.dns, options.settings.timeout);
    if (!made) {
      fmt::print(stderr, "otls probe: {} (--resolver, --trust-anchor)\n", made.error().message());
      return exit_usage;
    }
    resolver = std::move(*made);
  }
  auto work = [&]() -> awaitable<probe_result> {
    if (resolver && dane) co_return co_await probe_with_dane(*target, options, *resolver);
    if (resolver) co_return co_await probe_with_srv(*target, options, *resolver);
    // Named first: GCC 12 miscompiles a co_await inside a braced initializer.
    probe_result plain;
    plain.report = co_await net::run_client(*target, options.settings);
    co_return plain;
  };
  auto future = boost::asio::co_spawn(io, work(), boost::asio::use_future);
  io.run();
  const probe_result result = future.get();
  if (result.report.error == tls::errc::bad_ca_file) {
    fmt::print(stderr, "otls probe: {}\n", result.report.diag.detail);
    return exit_usage;
  }
  if (options.json)
    // Peer bytes need not be UTF-8: replace invalid sequences rather than fail the report.
    fmt::print("{}\n", to_json(result, options.security)
                           .dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
  else
    print_human(stdout, result, options.security, colour_enabled(stdout));
  return exit_code_for(result.outcome());
}

}  // namespace otls::app
