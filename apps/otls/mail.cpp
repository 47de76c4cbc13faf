// `otls probe --mx` and `otls policy`: MX routing (RFC 5321 §5.1, RFC 7505), DANE per MX host
// (RFC 7672), MTA-STS discovery, fetch and cache (RFC 8461), TLSRPT (RFC 8460 §3), the
// STARTTLS-Everywhere list and local rules, one decision per MX, and for probes one session
// per address under that decision.
#include "mail.hpp"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>

#include <fmt/core.h>
#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "dane_report.hpp"
#include "otls/net/error.hpp"
#include "otls/policy/decision.hpp"
#include "otls/policy/local_rules.hpp"
#include "otls/policy/mx.hpp"
#include "otls/policy/sts_lookup.hpp"
#include "otls/store/sqlite_store.hpp"
#include "terminal.hpp"

namespace otls::app {
namespace {

using nlohmann::json;
constexpr std::uint16_t smtp_port = 25;  // RFC 7672: TLSA at _25._tcp

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct mx_result {
  policy::mx_host host;
  policy::host_facts facts;
  policy::decision decision;
  std::vector<probe_result> probes;   // one per address; empty when refused before connecting
  std::vector<std::string> reported;  // report-only failures (MTA-STS testing, STS beside DANE)

  // ok only when every address met the decision: an attacker who blocks the good ones gets
  // the rest. Report-only failures are listed, not counted (RFC 8461 §5, testing mode).
  core::outcome outcome() const {
    if (decision.refusal) return *decision.refusal;
    for (const auto& p : probes)
      if (p.outcome() != core::outcome::ok && !p.report_only) return p.outcome();
    return core::outcome::ok;
  }
};

struct mail_report {
  policy::mx_facts mx;
  policy::sts_lookup sts;
  policy::tlsrpt_record tlsrpt;
  std::optional<policy::policy_list_entry> list_entry;
  std::optional<policy::local_rule> local;
  std::vector<mx_result> hosts;
  std::vector<std::string> warnings;

  core::outcome outcome() const {
    if (mx.problem) return *mx.problem;
    for (const auto& h : hosts)
      if (h.outcome() != core::outcome::ok) return h.outcome();
    return core::outcome::ok;
  }
};

// Everything the examination needs besides the domain, loaded once per run.
struct mail_context {
  std::unique_ptr<dns::unbound_resolver> owned_resolver;
  dns::resolver* resolver = nullptr;
  std::unique_ptr<store::policy_store> store;
  std::unique_ptr<policy::sts_fetcher> fetcher;
  std::optional<policy::policy_list> list;
  std::optional<policy::local_rules> local;
  std::vector<std::string> warnings;  // e.g. an expired list
};

policy::address_families families_of(net::address_family family) {
  return {family != net::address_family::ipv6, family != net::address_family::ipv4};
}

policy::security_level default_level_of(const probe_options* probe) {
  if (!probe) return policy::security_level::dane;
  switch (probe->security) {
    case level::may:
      return probe->dane ? policy::security_level::dane : policy::security_level::may;
    case level::encrypt:
      return policy::security_level::encrypt;
    case level::verify:
      return policy::security_level::verify;
    case level::dane:
      return policy::security_level::dane;
    case level::dane_only:
      return policy::security_level::dane_only;
  }
  return policy::security_level::dane;
}

awaitable<policy::tlsrpt_record> lookup_tlsrpt(dns::resolver& resolver, const std::string& domain) {
  const std::string name = "_smtp._tls." + dns::without_root_dot(domain);
  auto answer = co_await resolver.query(name, dns::rr_type::txt);
  std::vector<dns::txt_record> records;
  if (answer) {
    for (const auto& rec : answer->records)
      if (const auto* t = std::get_if<dns::txt_record>(&rec)) records.push_back(*t);
  }
  auto parsed = policy::parse_tlsrpt_txt(records);
  if (!answer || answer->outcome == dns::rcode::servfail)
    parsed.detail = "the TXT lookup of " + name + " failed";
  co_return parsed;
}

// The failures a probe reports without failing the host: the whole session when the decision
// is report-only, and MTA-STS's PKIX view where DANE decided.
void collect_reported(const probe_result& p, std::vector<std::string>& reported) {
  if (p.report_only && p.outcome() != core::outcome::ok)
    reported.push_back(std::string(core::to_string(p.outcome())));
  if (p.report.tls && p.report.tls->pkix_report) {
    const auto ec = tls::verification_error(*p.report.tls->pkix_report);
    if (ec) reported.push_back(std::string(core::to_string(net::outcome_of(ec))));
  }
}

// Cross-source consistency warnings for `otls policy` (and probes).
void add_consistency_warnings(mail_report& r) {
  const auto* sts = r.sts.in_effect();
  if (r.sts.txt.status == policy::sts_txt_status::found && r.sts.fetch_problem)
    r.warnings.push_back("_mta-sts TXT id " + r.sts.txt.id +
                         " is published but its policy cannot be used: " + r.sts.fetch_detail);
  if (sts && !r.mx.hosts.empty()) {
    for (const auto& pattern : sts->mx) {
      bool used = false;
      for (const auto& h : r.mx.hosts)
        used = used || policy::sts_mx_matches(pattern, dns::without_root_dot(h.exchange));
      if (!used) r.warnings.push_back("MTA-STS mx pattern '" + pattern + "' matches no MX host");
    }
  }
  for (const auto& h : r.hosts) {
    if (sts && h.facts.applies() &&
        !policy::sts_policy_covers(*sts, dns::without_root_dot(h.host.exchange)))
      r.warnings.push_back("DANE and MTA-STS disagree on " +
                           dns::without_root_dot(h.host.exchange) +
                           ": DANE applies but the MTA-STS policy does not list it (DANE decides)");
  }
}

// Looks up everything about the domain and decides per MX; probes each address if asked
// (`probe`), or with `check_ca` set connects only to check certificate names (--check).
awaitable<mail_report> examine(mail_context& ctx, std::string domain, const probe_options* probe,
                               net::address_family family, const std::string* check_ca,
                               bool refresh_sts) {
  dns::resolver& resolver = *ctx.resolver;
  mail_report report;
  report.warnings = ctx.warnings;
  report.mx = co_await policy::lookup_mx(resolver, domain);
  report.sts = co_await policy::lookup_sts(resolver, ctx.store.get(), *ctx.fetcher, domain,
                                           unix_now(), refresh_sts);
  report.warnings.insert(report.warnings.end(), report.sts.warnings.begin(),
                         report.sts.warnings.end());
  report.tlsrpt = co_await lookup_tlsrpt(resolver, domain);
  if (ctx.list) {
    if (const auto* entry = ctx.list->find(dns::without_root_dot(domain)))
      report.list_entry = *entry;
  }
  if (ctx.local) {
    if (const auto* rule = ctx.local->find(domain)) report.local = *rule;
  }

  // A probe at may/encrypt/verify without --dane asked for no DANE (as `otls probe URL`).
  const bool want_dane = !probe || probe->dane || wants_dane(probe->security);
  for (const auto& host : report.mx.hosts) {
    mx_result r;
    r.host = host;
    r.facts = co_await policy::lookup_host(resolver, host.exchange, smtp_port,
                                           policy::dane_mode::smtp, families_of(family), want_dane);
    policy::decision_inputs in;
    in.domain = report.mx.domain;
    in.mx_host = host.exchange;
    in.dane = &r.facts;
    in.sts = report.sts.in_effect();
    in.list = report.list_entry ? &*report.list_entry : nullptr;
    in.local = report.local ? &*report.local : nullptr;
    in.default_level = default_level_of(probe);
    r.decision = policy::decide(in);
    for (const auto o : r.decision.reported) r.reported.emplace_back(core::to_string(o));
    auto plan = policy::plan_for(r.decision, r.facts);

    if ((probe || check_ca) && plan.connect) {
      auto target = proto::resolve_target("smtp://" + dns::without_root_dot(host.exchange) + ":25");
      if (target) {
        for (const auto& address : r.facts.addresses) {
          net::client_settings settings;
          if (probe) {
            settings = probe->settings;
          } else {
            // --check: any TLS, then the names judged as MTA-STS would (RFC 8461 §4.2).
            settings.tls.ca_file = *check_ca;
            plan = {};
            plan.connect = true;
            plan.require_tls = true;
            plan.pkix_report_name = dns::without_root_dot(host.exchange);
          }
          settings.endpoints.assign(1, net::tcp::endpoint(address, smtp_port));
          auto result = co_await probe_planned(*target, std::move(settings), plan, r.facts);
          collect_reported(result, r.reported);
          r.probes.push_back(std::move(result));
        }
      }
    }
    report.hosts.push_back(std::move(r));
  }
  add_consistency_warnings(report);
  if (check_ca) {
    for (const auto& h : report.hosts)
      for (const auto& p : h.probes)
        if (p.report.tls && p.report.tls->pkix_report &&
            tls::verification_error(*p.report.tls->pkix_report))
          report.warnings.push_back("--check: the certificate of " +
                                    dns::without_root_dot(h.host.exchange) + " at " +
                                    p.report.address + " would fail MTA-STS: " +
                                    tls::verification_error(*p.report.tls->pkix_report).message());
  }
  co_return report;
}

json entry_json(const store::sts_entry& e) {
  return {{"domain", e.domain},
          {"id", e.id},
          {"fetched_at", e.fetched_at},
          {"expires_at", e.expires_at}};
}

json sts_json(const policy::sts_lookup& s) {
  json policy = nullptr;
  if (s.policy)
    policy = {{"mode", policy::to_string(s.policy->mode)},
              {"mx", s.policy->mx},
              {"max_age", s.policy->max_age}};
  return {
      {"txt",
       {{"status", s.txt_dns_failure ? "dns-failure" : policy::to_string(s.txt.status)},
        {"id", s.txt.status == policy::sts_txt_status::found ? json(s.txt.id) : json(nullptr)},
        {"detail", s.txt_detail.empty() ? json(nullptr) : json(s.txt_detail)}}},
      {"fetch",
       {{"attempted", s.fetch_attempted},
        {"outcome", !s.fetch_attempted ? json(nullptr)
                    : s.fetch_problem  ? json(core::to_string(*s.fetch_problem))
                                       : json("ok")},
        {"detail", s.fetch_detail.empty() ? json(nullptr) : json(s.fetch_detail)}}},
      {"cache",
       {{"action", policy::to_string(s.action)},
        {"before", s.cached_before ? entry_json(*s.cached_before) : json(nullptr)},
        {"entry", s.entry ? entry_json(*s.entry) : json(nullptr)}}},
      {"policy", policy},
      {"source", s.source.empty() ? json(nullptr) : json(s.source)},
  };
}

json decision_json(const policy::decision& d) {
  return {{"level", policy::to_string(d.level)},
          {"source", policy::to_string(d.source)},
          {"starttls_mandatory", d.starttls_mandatory},
          {"report_only", d.report_only},
          {"verify_names", d.verify_names},
          {"fingerprints", d.fingerprints},
          {"refusal", d.refusal ? json(core::to_string(*d.refusal)) : json(nullptr)},
          {"detail", d.refusal ? json(d.refusal_detail) : json(nullptr)},
          {"notes", d.notes}};
}

json mail_json(const mail_report& report, const probe_options* probe, bool checked) {
  json out;
  out["domain"] = dns::without_root_dot(report.mx.domain);
  if (probe) out["level"] = to_string(probe->security);
  out["mx_lookup"] = mx_lookup_json(report.mx);
  out["route"] = policy::to_string(report.mx.route);
  out["mta_sts"] = sts_json(report.sts);
  out["tlsrpt"] = {
      {"found", report.tlsrpt.found},
      {"rua", report.tlsrpt.rua},
      {"detail", report.tlsrpt.detail.empty() ? json(nullptr) : json(report.tlsrpt.detail)}};
  out["policy_list"] = report.list_entry
                           ? json{{"mode", policy::to_string(report.list_entry->mode)},
                                  {"mxs", report.list_entry->mxs}}
                           : json(nullptr);
  json hosts = json::array();
  for (const auto& h : report.hosts) {
    json entry = {{"exchange", dns::without_root_dot(h.host.exchange)},
                  {"preference", h.host.preference},
                  {"addresses", addresses_json(h.facts)},
                  {"dane", dane_json(h.facts)},
                  {"decision", decision_json(h.decision)},
                  {"warnings", h.facts.warnings}};
    if (probe || checked) {
      json probes = json::array();
      for (const auto& p : h.probes)
        probes.push_back(to_json(p, probe ? probe->security : level::encrypt));
      entry["probes"] = probes;
      entry["reported"] = h.reported;
    }
    entry["outcome"] = probe                ? json(core::to_string(h.outcome()))
                       : h.decision.refusal ? json(core::to_string(*h.decision.refusal))
                                            : json(nullptr);
    entry["detail"] = h.decision.refusal ? json(h.decision.refusal_detail) : json(nullptr);
    hosts.push_back(entry);
  }
  out["mx"] = hosts;
  auto warnings = report.mx.warnings;
  warnings.insert(warnings.end(), report.warnings.begin(), report.warnings.end());
  out["warnings"] = warnings;
  out["outcome"] = core::to_string(report.outcome());
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
             dns::without_root_dot(report.mx.domain),
             probe ? "  (level " + std::string(to_string(probe->security)) + ")" : "");
  const bool mx_secure = report.mx.dnssec == dns::dnssec_status::secure;
  row("MX lookup",
      fmt::format("{}, DNSSEC {}, route {}", dns::to_string(report.mx.rcode),
                  dns::to_string(report.mx.dnssec), policy::to_string(report.mx.route)),
      mx_secure ? tone::good : tone::plain);
  if (report.mx.problem) row("why", report.mx.detail, tone::bad);

  const auto& s = report.sts;
  row("MTA-STS TXT",
      s.txt_dns_failure ? "lookup failed"
      : s.txt.status == policy::sts_txt_status::found
          ? "id " + s.txt.id
          : std::string(policy::to_string(s.txt.status)) +
                (s.txt.detail.empty() ? "" : " (" + s.txt.detail + ")"),
      tone::plain);
  if (s.fetch_attempted)
    row("  fetch",
        s.fetch_problem ? std::string(core::to_string(*s.fetch_problem)) + ": " + s.fetch_detail
                        : std::string("ok"),
        s.fetch_problem ? tone::bad : tone::good);
  if (s.policy) {
    std::string mx;
    for (const auto& p : s.policy->mx) mx += (mx.empty() ? "" : ", ") + p;
    row("  policy",
        fmt::format("mode {}, max_age {}{}, from {}", policy::to_string(s.policy->mode),
                    s.policy->max_age, mx.empty() ? "" : ", mx " + mx, s.source),
        s.policy->mode == policy::sts_mode::enforce ? tone::good : tone::plain);
  }
  row("  cache", policy::to_string(s.action), tone::dim);
  row("TLSRPT",
      report.tlsrpt.found
          ? fmt::format("{}", fmt::join(report.tlsrpt.rua, ", "))
          : "none" +
                (report.tlsrpt.detail.empty() ? std::string() : " (" + report.tlsrpt.detail + ")"),
      tone::plain);
  if (report.list_entry)
    row("list entry",
        fmt::format("mode {}, mxs {}", policy::to_string(report.list_entry->mode),
                    fmt::join(report.list_entry->mxs, ", ")),
        tone::plain);
  for (const auto& w : report.mx.warnings) row("warning", w, tone::warn);
  for (const auto& w : report.warnings) row("warning", w, tone::warn);

  for (const auto& h : report.hosts) {
    fmt::print(out, "\n{} {} {}\n", styled("MX", tone::bold, colour), h.host.preference,
               printable(dns::without_root_dot(h.host.exchange)));
    print_dane_facts(row, h.facts);
    for (const auto& w : h.facts.warnings) row("warning", w, tone::warn);
    const auto& d = h.decision;
    row("decision",
        fmt::format("level {} from {}{}{}", policy::to_string(d.level), policy::to_string(d.source),
                    d.starttls_mandatory ? ", STARTTLS mandatory" : "",
                    d.report_only ? ", report-only" : ""),
        d.refusal ? tone::bad : tone::good);
    if (!d.verify_names.empty())
      row("  names", fmt::format("{}", fmt::join(d.verify_names, ", ")), tone::dim);
    for (const auto& n : d.notes) row("  note", n, tone::dim);
    if (d.refusal) {
      row(probe ? "outcome" : "not usable", std::string(core::to_string(*d.refusal)), tone::bad);
      if (d.refusal_detail != h.facts.detail) row("why", d.refusal_detail, tone::plain);
    }
    for (const auto& p : h.probes) {
      fmt::print(out, "\n");
      print_human(out, p, probe ? probe->security : level::encrypt, colour);
      if (p.report_only && p.outcome() != core::outcome::ok)
        row("report-only", "this failure is reported, delivery would continue (testing mode)",
            tone::warn);
    }
    for (const auto& r : h.reported) row("reported", r, tone::warn);
  }
  if (probe) {
    const auto o = report.outcome();
    fmt::print(out, "\n");
    row("domain outcome", std::string(core::to_string(o)),
        o == core::outcome::ok ? tone::good : tone::bad);
  }
}

// Makes the resolver, opens the store and reads the list and local rules; a usage error
// message when one of them cannot be used.
std::optional<std::string> load_context(boost::asio::any_io_executor ex, const dns_settings& dns,
                                        const mail_policy_settings& mail, net::duration timeout,
                                        mail_context& ctx) {
  auto resolver = make_resolver(std::move(ex), dns, timeout);
  if (!resolver) return resolver.error().message() + " (--resolver, --trust-anchor)";
  ctx.owned_resolver = std::move(*resolver);
  ctx.resolver = ctx.owned_resolver.get();
  ctx.fetcher = std::make_unique<policy::net_sts_fetcher>(*ctx.resolver, mail.sts_cafile, timeout);
  if (!mail.no_store) {
    const auto path = mail.store_path.empty() ? store::default_store_path() : mail.store_path;
    auto opened = store::sqlite_store::open(path);
    if (!opened) return "--store " + path + ": " + opened.error().message();
    ctx.store = std::move(*opened);
  }
  std::string detail;
  if (!mail.policy_list.empty()) {
    std::ifstream in(mail.policy_list, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in && !in.eof()) return "--policy-list " + mail.policy_list + ": cannot be read";
    ctx.list = policy::parse_policy_list(text, detail);
    if (!ctx.list) return "--policy-list " + mail.policy_list + ": " + detail;
    ctx.warnings.insert(ctx.warnings.end(), ctx.list->warnings.begin(), ctx.list->warnings.end());
    if (ctx.list->expired(unix_now())) {
      ctx.warnings.push_back("the policy list " + mail.policy_list + " has expired; it is ignored");
      ctx.list.reset();
    }
  }
  if (!mail.local_rules.empty()) {
    ctx.local = policy::load_local_rules(mail.local_rules, detail);
    if (!ctx.local) return "--local " + detail;
  }
  return std::nullopt;
}

// Examines (and with `probe`, probes) a mail domain, prints the report and returns the exit
// code; a resolver, store or file that cannot be used is a usage error.
int examine_and_report(const char* command, const dns_settings& dns,
                       const mail_policy_settings& mail, net::duration timeout,
                       net::address_family family, const std::string& domain,
                       const probe_options* probe, const std::string* check_ca, bool json_out,
                       bool refresh_sts = false) {
  boost::asio::io_context io(1);
  mail_context ctx;
  if (auto problem = load_context(io.get_executor(), dns, mail, timeout, ctx)) {
    fmt::print(stderr, "otls {}: {}\n", command, *problem);
    return exit_usage;
  }
  auto future = boost::asio::co_spawn(
      io, examine(ctx, domain, probe, family, check_ca, refresh_sts), boost::asio::use_future);
  io.run();
  const mail_report report = future.get();
  if (json_out)
    fmt::print("{}\n", mail_json(report, probe, check_ca != nullptr)
                           .dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
  else
    print_mail(stdout, report, probe, colour_enabled(stdout));
  if (!probe) {
    // The report itself is the result; only an undecidable or mail-less domain is an error.
    if (report.mx.problem) return exit_code_for(*report.mx.problem);
    return exit_ok;
  }
  return exit_code_for(report.outcome());
}

// `otls policy --refresh`: re-fetches cached MTA-STS policies that expire within a day, four
// at a time, so regularly used policies never lapse (RFC 8461 §5.1). Failures keep the cache.
int refresh_policies(const policy_options& options) {
  constexpr std::int64_t window = 24 * 3600;
  constexpr std::size_t max_entries = 10'000;
  boost::asio::io_context io(1);
  mail_context ctx;
  if (auto problem =
          load_context(io.get_executor(), options.dns, options.mail, options.timeout, ctx)) {
    fmt::print(stderr, "otls policy: {}\n", *problem);
    return exit_usage;
  }
  if (!ctx.store) {
    fmt::print(stderr, "otls policy: --refresh needs the policy cache (not --no-store)\n");
    return exit_usage;
  }
  const auto now = unix_now();
  auto due = ctx.store->sts_expiring_before(now + window, max_entries);
  if (!due) {
    fmt::print(stderr, "otls policy: the policy cache cannot be read: {}\n", due.error().message());
    return exit_internal;
  }
  std::vector<policy::sts_lookup> results(due->size());
  std::size_t next = 0;
  auto worker = [&]() -> awaitable<void> {
    while (next < due->size()) {
      const std::size_t i = next++;
      results[i] = co_await policy::lookup_sts(*ctx.resolver, ctx.store.get(), *ctx.fetcher,
                                               (*due)[i].domain, now, true);
    }
  };
  using namespace boost::asio::experimental::awaitable_operators;
  auto all = [&]() -> awaitable<void> { co_await (worker() && worker() && worker() && worker()); };
  auto future = boost::asio::co_spawn(io, all(), boost::asio::use_future);
  io.run();
  future.get();
  json out = json::array();
  int failed = 0;
  for (const auto& r : results) {
    const bool ok = r.source == "fetched";
    if (!ok) ++failed;
    if (options.json) {
      out.push_back(
          {{"domain", r.domain},
           {"refreshed", ok},
           {"cache", policy::to_string(r.action)},
           {"problem", r.fetch_problem ? json(core::to_string(*r.fetch_problem))
                       : r.txt_dns_failure || r.txt.status != policy::sts_txt_status::found
                           ? json(r.txt_detail)
                           : json(nullptr)}});
    } else {
      fmt::print("{:<40} {}\n", r.domain,
                 ok ? std::string("refreshed")
                    : "kept (" + (r.fetch_detail.empty() ? r.txt_detail : r.fetch_detail) + ")");
    }
  }
  if (options.json)
    fmt::print("{}\n", out.dump(2));
  else
    fmt::print("{} due, {} refreshed, {} kept\n", results.size(), results.size() - failed, failed);
  return exit_ok;
}

}  // namespace

int run_mx_probe(probe_options options) {
  return examine_and_report("probe", options.dns, options.mail, options.settings.timeout,
                            options.settings.family, options.mx_domain, &options, nullptr,
                            options.json);
}

int run_policy(const policy_options& options) {
  if (options.refresh && options.domain.empty()) return refresh_policies(options);
  return examine_and_report("policy", options.dns, options.mail, options.timeout, options.family,
                            options.domain, nullptr, options.check ? &options.ca_file : nullptr,
                            options.json, options.refresh);
}

}  // namespace otls::app
