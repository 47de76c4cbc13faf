// The otls command line: subcommands over the otls library (exceptions are allowed here only).
#include <cstdio>
#include <exception>

#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include "demo.hpp"
#include "mail.hpp"
#include "otls/proto/registry.hpp"
#include "probe.hpp"

namespace {

using namespace otls::app;

// The URL schemes straight from the protocol registry, so --help never goes stale.
std::string scheme_help() {
  std::string text = "\nSchemes (default port):\n";
  for (const auto& p : otls::proto::protocols())
    text += fmt::format("  {:<13} {:>5}  {}\n", p.scheme, p.default_port, p.summary);
  return text;
}

// --resolver and --trust-anchor: where DNSSEC-validated answers come from.
void add_dns_options(CLI::App* command, dns_settings& dns) {
  command->add_option("--resolver", dns.resolver,
                      "DNS resolver ADDR[:PORT] to ask (default: /etc/resolv.conf's); otls "
                      "validates DNSSEC itself and never trusts the resolver's AD bit");
  command
      ->add_option("--trust-anchor", dns.trust_anchor,
                   "DNSSEC trust anchor (DS/DNSKEY records, zone-file format; default: "
                   "/usr/share/dns/root.key)")
      ->check(CLI::ExistingFile);
}

// Where MTA-STS policies, the STARTTLS-Everywhere list and local rules come from.
void add_mail_policy_options(CLI::App* command, mail_policy_settings& mail) {
  command
      ->add_option("--sts-cafile", mail.sts_cafile,
                   "trust anchors (PEM) for MTA-STS policy hosts instead of the system store")
      ->check(CLI::ExistingFile);
  auto* store =
      command->add_option("--store", mail.store_path,
                          "the MTA-STS policy cache (SQLite; default $OTLS_STORE, else "
                          "$XDG_CACHE_HOME/otls/policy.sqlite or ~/.cache/otls/policy.sqlite)");
  command->add_flag("--no-store", mail.no_store, "keep no MTA-STS cache")->excludes(store);
  command
      ->add_option("--policy-list", mail.policy_list,
                   "a STARTTLS-Everywhere policy list (JSON) applied like MTA-STS policies")
      ->check(CLI::ExistingFile);
  command
      ->add_option("--local", mail.local_rules,
                   "per-domain overrides (TOML: [domain.\"example.org\"] level, mx, "
                   "fingerprints)")
      ->check(CLI::ExistingFile);
}

CLI::App* add_probe(CLI::App& app, probe_options& options, std::string& level_text,
                    double& timeout_s, std::string& tls_min) {
  auto* probe = app.add_subcommand(
      "probe", "Probe one server (URL), or every MX host of a mail domain (--mx DOMAIN)");
  probe->footer(scheme_help() + "\n" + exit_code_help);
  auto* url =
      probe->add_option("url", options.url, "scheme://host[:port], e.g. smtp://mx.example.org");
  auto* mx = probe->add_option("--mx", options.mx_domain,
                               "probe each MX host of this mail domain on port 25, in preference "
                               "order, with DANE where it applies (default level dane)");
  url->excludes(mx);
  probe->add_flag("--dane", options.dane,
                  "check the host's TLSA records (_PORT._tcp.HOST, DNSSEC-validated); where "
                  "DANE applies it decides, elsewhere the level does");
  add_dns_options(probe, options.dns);
  add_mail_policy_options(probe, options.mail);
  probe->add_flag("--json", options.json, "print one JSON object (see docs/json.md)");
  probe
      ->add_option("--cafile", options.settings.tls.ca_file,
                   "trust anchors (PEM) instead of the system store")
      ->check(CLI::ExistingFile);
  probe->add_option("--servername", options.settings.tls.servername,
                    "name for SNI and certificate checks (default: the URL's host)");
  probe->add_option("--xmpp-domain", options.settings.dialect.server_name,
                    "the domain asked for in the XMPP stream header (to=), and the like for "
                    "other protocols that name a virtual host (default: the URL's host)");
  probe->add_option("--ehlo-name", options.settings.dialect.client_name,
                    "name sent in EHLO/LHLO (default: localhost)");
  probe->add_flag("--no-srv", options.no_srv,
                  "connect to the URL's host and default port even where the scheme locates its "
                  "service by SRV records (xmpp, xmpp-server, xmpps without a port)");
  auto* data = probe->add_flag("--data", options.settings.dialect.transfer_data,
                               "FTP: log in and list the directory over a passive data "
                               "connection under TLS, resuming the control session");
  auto* user = probe->add_option("--user", options.settings.dialect.user,
                                 "FTP: log in as this user inside TLS (default with --data: "
                                 "anonymous)");
  probe
      ->add_option("--password", options.settings.dialect.password,
                   "FTP: the password for --user (better: $OTLS_PASSWORD, which ps does not "
                   "show); never sent without TLS")
      ->envname("OTLS_PASSWORD");
  data->excludes(mx);
  user->excludes(mx);
  probe->add_option("--timeout", timeout_s, "seconds allowed for each step (default 10)")
      ->check(CLI::Range(0.1, 3600.0));
  probe->add_option("--tls-min", tls_min,
                    "lowest TLS version: 1.0, 1.1, 1.2 (default), 1.3; below 1.2 also lowers "
                    "OpenSSL's security level to 0");
  probe
      ->add_option("--level", level_text,
                   "may: TLS if offered, plaintext reported; encrypt: TLS required, not "
                   "verified; verify (default for a URL): TLS required, chain and name "
                   "verified; dane (default for --mx): DANE where it applies, else may; "
                   "dane-only: DANE must apply")
      ->check(CLI::IsMember({"may", "encrypt", "verify", "dane", "dane-only"}));
  auto* v4 = probe->add_flag_callback(
      "-4", [&] { options.settings.family = otls::net::address_family::ipv4; }, "IPv4 only");
  auto* v6 = probe->add_flag_callback(
      "-6", [&] { options.settings.family = otls::net::address_family::ipv6; }, "IPv6 only");
  v4->excludes(v6);
  return probe;
}

CLI::App* add_policy(CLI::App& app, policy_options& options, double& timeout_s) {
  auto* policy = app.add_subcommand(
      "policy", "Show a mail domain's transport-security policy: MX hosts, DNSSEC, DANE");
  policy->footer(
      "Exit codes: 0 the report was made; 10 the MX lookup failed (bogus, SERVFAIL, a "
      "resolver that cannot validate); 12 the domain accepts no mail; 64 usage error.\n"
      "Decision per MX: local rules (--local) first; then DANE where it applies (a failing "
      "DANE is never rescued by MTA-STS, RFC 8461 §2); then MTA-STS; then the "
      "STARTTLS-Everywhere list (--policy-list); then the default level dane.");
  policy->add_option("domain", options.domain, "mail domain, e.g. example.org");
  policy->add_flag("--json", options.json, "print one JSON object (see docs/json.md)");
  policy->add_flag("--check", options.check,
                   "also connect to each MX and report certificates whose names would fail "
                   "MTA-STS (RFC 8461 §4.2)");
  policy->add_flag("--refresh", options.refresh,
                   "re-fetch the MTA-STS policy even if cached; without DOMAIN: every cached "
                   "policy expiring within a day, four at a time");
  policy
      ->add_option("--cafile", options.ca_file,
                   "trust anchors (PEM) for the MX certificates checked by --check")
      ->check(CLI::ExistingFile);
  add_dns_options(policy, options.dns);
  add_mail_policy_options(policy, options.mail);
  auto* v4 = policy->add_flag_callback(
      "-4", [&] { options.family = otls::net::address_family::ipv4; }, "IPv4 only");
  auto* v6 = policy->add_flag_callback(
      "-6", [&] { options.family = otls::net::address_family::ipv6; }, "IPv6 only");
  v4->excludes(v6);
  policy->add_option("--timeout", timeout_s, "seconds allowed for each DNS query (default 10)")
      ->check(CLI::Range(0.1, 3600.0));
  return policy;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"otls: opportunistic TLS (STARTTLS) probing, done right", "otls"};
  app.set_version_flag("--version", "otls 0.1.0");
  app.require_subcommand(1);

  probe_options probe;
  std::string level_text = "verify";
  double timeout_s = 10;
  std::string tls_min = "1.2";
  auto* probe_cmd = add_probe(app, probe, level_text, timeout_s, tls_min);

  policy_options policy;
  double policy_timeout_s = 10;
  add_policy(app, policy, policy_timeout_s);

  demo_options demo;
  auto* demo_cmd = app.add_subcommand(
      "demo", "Run the embedded lab: otls's SMTP server and a STRIPTLS attacker on loopback");
  demo_cmd->add_flag("--details", demo.details, "print every probe's full report");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : exit_usage;
  }

  try {
    if (app.got_subcommand("probe")) {
      if (probe.url.empty() == probe.mx_domain.empty()) {
        fmt::print(stderr, "otls probe: give either a URL or --mx DOMAIN\n");
        return exit_usage;
      }
      // Mail domains default to DANE where it applies, like Postfix's "dane" level.
      const bool level_given = probe_cmd->count("--level") > 0;
      if (!level_given && (!probe.mx_domain.empty() || probe.dane)) level_text = "dane";
      probe.security = parse_level(level_text);
      probe.settings.timeout =
          std::chrono::milliseconds(static_cast<long long>(timeout_s * 1000.0));
      auto version = otls::tls::parse_version(tls_min);
      if (!version) {
        fmt::print(stderr, "otls probe: --tls-min {}: expected 1.0, 1.1, 1.2 or 1.3\n", tls_min);
        return exit_usage;
      }
      probe.settings.tls.min_version = *version;
      probe.settings.dialect.log_in = !probe.settings.dialect.user.empty();
      for (const auto* credential :
           {&probe.settings.dialect.user, &probe.settings.dialect.password})
        if (credential->find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
          fmt::print(stderr, "otls probe: --user and --password must not contain line breaks\n");
          return exit_usage;
        }
      if (!probe.mx_domain.empty()) return run_mx_probe(std::move(probe));
      return run_probe(std::move(probe));
    }
    if (app.got_subcommand("policy")) {
      if (policy.domain.empty() && !policy.refresh) {
        fmt::print(stderr, "otls policy: give a DOMAIN (or --refresh alone)\n");
        return exit_usage;
      }
      policy.timeout = std::chrono::milliseconds(static_cast<long long>(policy_timeout_s * 1000.0));
      return run_policy(policy);
    }
    if (app.got_subcommand("demo")) return run_demo(demo);
  } catch (const std::exception& e) {
    fmt::print(stderr, "otls: {}\n", e.what());
    return exit_internal;
  }
  return exit_usage;
}
