// Local per-domain overrides from a TOML file (like Postfix's smtp_tls_policy_maps):
//   [domain."example.org"]
//   level = "verify"                      # any security level name
//   mx = ["mx1.example.org", "*.example.net"]
//   fingerprints = ["<sha256 hex of the certificate or its public key>"]
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "otls/policy/decision.hpp"

namespace otls::policy {

struct local_rules {
  std::map<std::string, local_rule> domains;  // lower-case, no trailing dot
  const local_rule* find(std::string_view domain) const;
};

// Parses the file; a syntax error, an unknown level or a malformed fingerprint is an error
// with `detail` naming the place (configuration loading: the one place exceptions are caught).
std::optional<local_rules> load_local_rules(const std::string& path, std::string& detail);
std::optional<local_rules> parse_local_rules(std::string_view toml_text, std::string& detail);

}  // namespace otls::policy
