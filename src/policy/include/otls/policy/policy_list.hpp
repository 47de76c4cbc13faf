// The STARTTLS-Everywhere policy list (EFF, JSON; no longer published since 2020) read as a
// local policy file: per-domain mode and MX patterns, applied like an MTA-STS policy.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "otls/policy/mta_sts.hpp"

namespace otls::policy {

struct policy_list_entry {
  sts_mode mode = sts_mode::testing;  // "enforce" or "testing" ("none" is accepted too)
  std::vector<std::string> mxs;       // ".example.com" matches any subdomain; else exact
};

struct policy_list {
  std::int64_t timestamp = 0;  // seconds since the epoch
  std::int64_t expires = 0;
  std::map<std::string, policy_list_entry> policies;  // by lower-case domain, no trailing dot
  std::vector<std::string> warnings;                  // e.g. unknown pinset names, skipped entries

  // The entry for a domain, following "policy-alias" references (already resolved at parse).
  const policy_list_entry* find(std::string_view domain) const;
  bool expired(std::int64_t now_seconds) const { return expires != 0 && now_seconds >= expires; }
};

// Parses the JSON ("timestamp", "expires" as numbers or RFC 3339 strings, "pinsets",
// "policy-aliases", "policies" with "mode", "mxs", "policy-alias"). Malformed input is an
// error with `detail`; entries that cannot be used are skipped with a warning.
std::optional<policy_list> parse_policy_list(std::string_view json, std::string& detail);

// List MX matching: a leading dot matches any subdomain (not the name itself), else exact;
// case-insensitive, trailing dots ignored.
bool list_mx_matches(std::string_view pattern, std::string_view mx_host);

}  // namespace otls::policy
