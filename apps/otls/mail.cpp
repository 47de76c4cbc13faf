// `otls probe --mx` and `otls policy`: MX routing (RFC 5321 §5.1, RFC 7505), DANE per MX host
// (RFC 7672 §2.2), then for probes one session per address at the chosen level.
#include "mail.hpp"

#include <cstdio>

#include <fmt/core.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "dane_report.hpp"
#include "otls/policy/mx.hpp"
#include "terminal.hpp"

namespace otls::app {
namespace {

constexpr std::uint16_t smtp_port = 25;  // RFC 7672: TLSA at _25._tcp

struct mx_result {
  policy::mx_host host;
  policy::host_facts facts;
  std::vector<probe_result> probes;  // one per address; empty when refused before connecting
  std::optional<core::outcome> refusal;
  std::string refusal_detail;

  // ok only when every address met the level: an attacker who blocks the good ones gets
  // the rest (RFC 7672 §2.2.1 is about exactly that downgrade).
  core::outcome outcome() const {
    if (refusal) return *refusal;
    for (const auto& p : probes)
      if (p.outcome() != core::outcome::ok) return p.outcome();
    return core::outcome::ok;
  }
};

struct mail_report {
  policy::mx_facts mx;
  std::vector<mx_result> hosts;

  core::outcome outcome() const {
    if (mx.problem) return *mx.problem;
    for (const auto& h : hosts)
      if (h.outcome() != core::outcome::ok) return h.outcome();
    return core::outcome::ok;
  }
};

policy::address_families families_of(net::address_family family) {
  return {family != net::address_family::ipv6, family != net::address_family::ipv4};
}

// Looks up the MX hosts, their addresses and DANE facts; probes each address if asked.
awaitable<mail_report> examine(dns::resolver& resolver, std::string domain,
                               const probe_options* probe, net::address_family family) {
  mail_report report;
  report.mx = co_await policy::lookup_mx(resolver, domain);
  const bool want_dane = !probe || probe->dane || wants_dane(probe->security);
  for (const auto& host : report.mx.hosts) {
    mx_result r;
    r.host = host;
    r.facts = co_await policy::lookup_host(resolver, host.exchange, smtp_port,
                                           policy::dane_mode::smtp, families_of(family), want_dane);
    const auto plan = policy::plan_connection(
        r.facts, probe ? fallback_of(probe->security) : policy::dane_fallback::may);
    if (!plan.connect) {
      r.refusal = plan.refusal;
      r.refusal_detail = plan.detail;
    } else if (probe) {
      auto target = proto::resolve_target("smtp://" + without_root_dot(host.exchange) + ":25");
      if (!target) {
        r.refusal = core::outcome::protocol_error;
        r.refusal_detail = "the MX name " + host.exchange + " is not a usable host name";
      } else {
        for (const auto& address : r.facts.addresses) {
          auto settings = probe->settings;
          settings.endpoints.assign(1, net::tcp::endpoint(address, smtp_port));
          r.probes.push_back(
              co_await probe_planned(*target, std::move(settings), probe->security, r.facts));
        }
      }
    }
    report.hosts.push_back(std::move(r));
  }
  co_return report;
}

nlohmann::json mail_json(const mail_report& report, const probe_options* probe) {
  using nlohmann::json;
  json out;
  out["domain"] = without_root_dot(report.mx.domain);
  if (probe) out["level"] = to_string(probe->security);
  out["mx_lookup"] = mx_lookup_json(report.mx);
  out["route"] = policy::to_string(report.mx.route);
  json hosts = json::array();
  for (const auto& h : report.hosts) {
    json entry = {{"exchange", without_root_dot(h.host.exchange)},
                  {"preference", h.host.preference},
                  {"addresses", addresses_json(h.facts)},
                  {"dane", dane_json(h.facts)},
                  {"warnings", h.facts.warnings}};
    if (probe) {
      json probes = json::array();
      for (const auto& p : h.probes) probes.push_back(to_json(p, probe->security));
      entry["probes"] = probes;
      entry["outcome"] = core::to_string(h.outcome());
    } else {
      entry["outcome"] = h.refusal ? json(core::to_string(*h.refusal)) : json(nullptr);
    }
    entry["detail"] = h.refusal ? json(h.refusal_detail) : json(nullptr);
    hosts.push_back(entry);
  }
  out["mx"] = hosts;
  out["warnings"] = report.mx.warnings;
  const auto o = report.outcome();
  out["outcome"] = core::to_string(o);
  out["error"] =
      report.mx.problem
          ? json({{"message", core::to_string(*report.mx.problem)}, {"detail", report.mx.detail}})
          : json(nullptr);
  return out;
}

void print_mail(std::FILE* out, const mail_report& report, const probe_options* probe,
                bool colour) {
  const row_printer row = [&](std::string_view key, const std::string& value, tone t) {
    fmt::print(out, "  {:<16} {}\n", key, styled(printable(value), t, colour));
  };
  fmt::print(out, "{} {}{}\n",
             styled(probe ? "otls probe --mx" : "otls policy", tone::bold, colour),
             without_root_dot(report.mx.domain),
             probe ? "  (level " + std::string(to_string(probe->security)) + ")" : "");
  const bool mx_secure = report.mx.dnssec == dns::dnssec_status::secure;
  row("MX lookup",
      fmt::format("{}, DNSSEC {}, route {}", dns::to_string(report.mx.rcode),
                  dns::to_string(report.mx.dnssec), policy::to_string(report.mx.route)),
      mx_secure ? tone::good : tone::plain);
  for (const auto& w : report.mx.warnings) row("warning", w, tone::warn);
  if (report.mx.problem) row("why", report.mx.detail, tone::bad);
  for (const auto& h : report.hosts) {
    fmt::print(out, "\n{} {} {}\n", styled("MX", tone::bold, colour), h.host.preference,
               printable(without_root_dot(h.host.exchange)));
    print_dane_facts(row, h.facts);
    for (const auto& w : h.facts.warnings) row("warning", w, tone::warn);
    if (h.refusal) {
      row(probe ? "outcome" : "not usable", std::string(core::to_string(*h.refusal)), tone::bad);
      if (h.refusal_detail != h.facts.detail) row("why", h.refusal_detail, tone::plain);
    }
    for (const auto& p : h.probes) {
      fmt::print(out, "\n");
      print_human(out, p, probe->security, colour);
    }
  }
  if (probe) {
    const auto o = report.outcome();
    fmt::print(out, "\n");
    row("domain outcome", std::string(core::to_string(o)),
        o == core::outcome::ok ? tone::good : tone::bad);
  }
}

// Examines (and with `probe`, probes) a mail domain through a validating resolver, prints the
// report and returns the exit code; a resolver that cannot be set up is a usage error.
int examine_and_report(const char* command, const dns_settings& dns, net::duration timeout,
                       net::address_family family, const std::string& domain,
                       const probe_options* probe, bool json) {
  boost::asio::io_context io(1);
  auto resolver = make_resolver(io.get_executor(), dns, timeout);
  if (!resolver) {
    fmt::print(stderr, "otls {}: {} (--resolver, --trust-anchor)\n", command,
               resolver.error().message());
    return exit_usage;
  }
  auto future = boost::asio::co_spawn(io, examine(**resolver, domain, probe, family),
                                      boost::asio::use_future);
  io.run();
  const mail_report report = future.get();
  if (json)
    fmt::print(
        "{}\n",
        mail_json(report, probe).dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
  else
    print_mail(stdout, report, probe, colour_enabled(stdout));
  if (!probe) {
    // The report itself is the result; only an undecidable or mail-less domain is an error.
    if (report.mx.problem) return exit_code_for(*report.mx.problem);
    return exit_ok;
  }
  return exit_code_for(report.outcome());
}

}  // namespace

int run_mx_probe(probe_options options) {
  return examine_and_report("probe", options.dns, options.settings.timeout, options.settings.family,
                            options.mx_domain, &options, options.json);
}

int run_policy(const policy_options& options) {
  return examine_and_report("policy", options.dns, options.timeout, options.family, options.domain,
                            nullptr, options.json);
}

}  // namespace otls::app
