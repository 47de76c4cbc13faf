// libFuzzer target: MTA-STS policy bodies (RFC 8461 §3.2) and the MX pattern match (§4.1) on
// arbitrary bytes; input that opens with "{" is also read as a STARTTLS-Everywhere JSON list.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "otls/policy/mta_sts.hpp"
#include "otls/policy/policy_list.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  std::string detail;
  if (const auto policy = otls::policy::parse_sts_policy(body, detail)) {
    // Invariants of an accepted policy: capped max_age, an mx line unless mode is none.
    if (policy->max_age > otls::policy::sts_max_age_limit) __builtin_trap();
    if (policy->mode != otls::policy::sts_mode::none && policy->mx.empty()) __builtin_trap();
    // Each published pattern against its own text without "*.", and against the last line.
    for (const auto& pattern : policy->mx) {
      (void)otls::policy::sts_mx_matches(pattern, std::string_view(pattern).substr(1));
      (void)otls::policy::sts_mx_matches(pattern, "mail." + pattern);
    }
    (void)otls::policy::sts_policy_covers(*policy, body.substr(body.rfind('\n') + 1));
  } else if (detail.empty()) {
    __builtin_trap();  // every rejection must say why
  }
  // The bytes split at the first newline as (pattern, host) for both matchers.
  const auto newline = body.find('\n');
  const auto pattern = body.substr(0, newline);
  const auto host = newline == body.npos ? std::string_view() : body.substr(newline + 1);
  (void)otls::policy::sts_mx_matches(pattern, host);
  (void)otls::policy::list_mx_matches(pattern, host);

  if (!body.empty() && body.front() == '{') {
    if (const auto list = otls::policy::parse_policy_list(body, detail)) {
      for (const auto& [domain, entry] : list->policies) {
        if (list->find(domain) != &entry) __builtin_trap();
        for (const auto& mx : entry.mxs) (void)otls::policy::list_mx_matches(mx, "mx." + domain);
      }
    } else if (detail.empty()) {
      __builtin_trap();
    }
  }
  return 0;
}
