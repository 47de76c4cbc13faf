// `otls probe`: one server, greeted, upgraded, verified and reported (human or JSON).
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "otls/core/outcome.hpp"
#include "otls/dns/unbound_resolver.hpp"
#include "otls/net/client.hpp"
#include "otls/policy/dane.hpp"
#include "otls/policy/srv.hpp"

namespace otls::app {

using boost::asio::awaitable;

// Postfix-style levels. dane: DANE where it applies (RFC 7672), otherwise may; dane-only:
// DANE must apply. may/encrypt/verify combined with --dane fall back to themselves.
enum class level { may, encrypt, verify, dane, dane_only };

// Exit codes of `otls probe`, documented in --help and the README.
enum exit_code : int {
  exit_ok = 0,
  exit_internal = 1,
  exit_connect = 2,
  exit_starttls_not_offered = 3,
  exit_starttls_refused = 4,
  exit_handshake = 5,
  exit_verification = 6,
  exit_protocol = 7,
  exit_timeout = 8,
  exit_injection = 9,
  exit_dns = 10,            // dnssec-invalid, resolver-cannot-validate, dns-failure
  exit_dane_required = 11,  // level dane-only without DNSSEC-validated TLSA records
  exit_no_mail = 12,        // null MX, or a domain without mail hosts
  exit_policy = 13,         // MTA-STS: policy unfetchable or invalid, MX not in an enforced policy
  exit_ftp_session = 14,    // FTP: login refused, or the data connection failed
  exit_usage = 64,
};

extern const char* const exit_code_help;

// Where DNSSEC-validated answers come from (dns::unbound_options).
struct dns_settings {
  std::string resolver;      // ADDR[:PORT]; empty: /etc/resolv.conf
  std::string trust_anchor;  // empty: Debian's root anchor
};

// Where MTA-STS policies, the STARTTLS-Everywhere list and local rules come from.
struct mail_policy_settings {
  std::string sts_cafile;   // trust anchors for mta-sts.<domain> (default: the system store)
  std::string store_path;   // the policy cache (default: store::default_store_path())
  bool no_store = false;    // keep no cache (every run is a first sight)
  std::string policy_list;  // a STARTTLS-Everywhere list file (JSON)
  std::string local_rules;  // a TOML file of per-domain overrides
};

struct probe_options {
  std::string url;
  std::string mx_domain;  // --mx: probe every MX host of this mail domain instead of url
  level security = level::verify;
  bool dane = false;    // look up TLSA records (implied by the dane levels)
  bool no_srv = false;  // connect to the URL's host even where the scheme locates by SRV
  bool json = false;
  dns_settings dns;
  mail_policy_settings mail;  // --mx only
  net::client_settings settings;
};

level parse_level(const std::string& text);  // throws std::invalid_argument
std::string_view to_string(level l);
bool wants_dane(level l);
policy::dane_fallback fallback_of(level l);  // what a level does where DANE does not apply

// Applies the level's properties (TLS required? certificate verified?) to the settings.
void apply_level(level l, net::client_settings& settings);

// One probe: a session, or a refusal decided before connecting (DNS, DANE), with the DANE
// facts when they were looked up.
struct probe_result {
  net::client_report report;
  std::optional<core::outcome> refusal;
  std::string refusal_detail;
  std::optional<policy::host_facts> dane;
  std::optional<policy::service_facts> srv;  // the SRV lookup that located the service
  bool report_only = false;                  // failures are reported only (MTA-STS testing mode)

  core::outcome outcome() const;
};

int exit_code_for(core::outcome o);
int exit_code_for(const net::client_report& report);

nlohmann::json to_json(const net::client_report& report, level l);
nlohmann::json to_json(const probe_result& result, level l);
void print_human(std::FILE* out, const net::client_report& report, level l, bool colour);
void print_human(std::FILE* out, const probe_result& result, level l, bool colour);

// Connects as `plan` says (DANE records and names, PKIX names, fingerprints, or nothing to
// check), to the host's DNSSEC-looked-up addresses unless settings.endpoints names others.
awaitable<probe_result> probe_planned(proto::target target, net::client_settings settings,
                                      policy::connection_plan plan, policy::host_facts facts);

result<std::unique_ptr<dns::unbound_resolver>> make_resolver(boost::asio::any_io_executor ex,
                                                             const dns_settings& dns,
                                                             net::duration timeout);

int run_probe(probe_options options);

}  // namespace otls::app
