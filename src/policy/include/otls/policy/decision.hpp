// One transport-security decision per (domain, MX host), as a pure function of the DNS/DANE
// facts, the MTA-STS policy in effect, the STARTTLS-Everywhere list, local overrides and the
// default level. Precedence follows RFC 8461 §2: MTA-STS never overrides a failing DANE.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "otls/core/outcome.hpp"
#include "otls/policy/dane.hpp"
#include "otls/policy/levels.hpp"
#include "otls/policy/mta_sts.hpp"
#include "otls/policy/policy_list.hpp"

namespace otls::policy {

// A per-domain rule from the local configuration (like Postfix's smtp_tls_policy_maps).
struct local_rule {
  std::optional<security_level> level;
  std::vector<std::string> mx;            // MTA-STS-style patterns; empty: any MX
  std::vector<std::string> fingerprints;  // SHA-256 of the certificate or its SPKI, hex
};

enum class decision_source { dane, mta_sts, list, local, fallback };
const char* to_string(decision_source s) noexcept;  // "dane", "mta-sts", "list", "local", "default"

struct decision_inputs {
  std::string domain;                // the next-hop domain
  std::string mx_host;               // as written in the MX record
  const host_facts* dane = nullptr;  // looked up for this host (verdict not_applicable if not)
  const sts_policy* sts = nullptr;   // the MTA-STS policy in effect (fetched or cached)
  const policy_list_entry* list = nullptr;  // from an unexpired list
  const local_rule* local = nullptr;
  security_level default_level = security_level::dane;
};

struct decision {
  security_level level = security_level::may;
  decision_source source = decision_source::fallback;
  bool starttls_mandatory = false;
  // Failures are reported, delivery would go on (MTA-STS testing, list testing, RFC 8461 §5).
  bool report_only = false;
  std::vector<std::string> verify_names;  // PKIX reference names (verify: the MX host)
  std::vector<std::string> fingerprints;
  // Checks to run besides the level, whose failures are only reported: MTA-STS's PKIX check
  // where DANE decides (RFC 8461 §2 lets DANE win, the STS view is still worth reporting).
  bool report_pkix_check = false;
  std::optional<core::outcome> refusal;  // the host must not be used; no connection
  std::string refusal_detail;
  // Failures known before connecting that are only reported (an MX missing from a testing
  // policy, or from an MTA-STS policy where DANE decides).
  std::vector<core::outcome> reported;
  std::vector<std::string> notes;
};

decision decide(const decision_inputs& in);

// How to connect to the host under a decision (pure): the DANE levels through
// plan_connection, the others from the level's properties.
connection_plan plan_for(const decision& d, const host_facts& facts);

}  // namespace otls::policy
