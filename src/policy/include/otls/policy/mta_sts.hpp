// MTA-STS (RFC 8461) and TLSRPT (RFC 8460 §3) records and policies: the pure parsers and the
// MX pattern match. Fetching and caching live elsewhere (net/https.hpp, store/).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "otls/dns/resolver.hpp"

namespace otls::policy {

// RFC 8461 §3.1: the TXT RRset at _mta-sts.<domain>.
enum class sts_txt_status {
  found,      // exactly one record starting with "v=STSv1;" and a valid id
  none,       // no record starts with "v=STSv1;" (other TXT records are ignored)
  ambiguous,  // more than one "v=STSv1;" record: no live policy (§3.1)
  invalid,    // the one STSv1 record is malformed (id missing or not 1-32 alphanumerics)
};
const char* to_string(sts_txt_status s) noexcept;

struct sts_txt {
  sts_txt_status status = sts_txt_status::none;
  std::string id;      // when found
  std::string detail;  // why not found, for humans
};

// Joins each record's strings without separators (RFC 8461 §3.1), keeps records starting with
// "v=STSv1;" (case-sensitive, as the ABNF), then exactly one must remain. Fields are
// "key=value" separated by ";" with optional whitespace; unknown fields are ignored.
sts_txt parse_sts_txt(const std::vector<dns::txt_record>& records);

enum class sts_mode { enforce, testing, none };
const char* to_string(sts_mode m) noexcept;

struct sts_policy {
  sts_mode mode = sts_mode::none;
  std::vector<std::string> mx;  // patterns as published: "mail.example.com", "*.example.net"
  std::uint32_t max_age = 0;    // seconds, at most sts_max_age_limit
};

// RFC 8461 §3.2: max_age is at most 31557600 (about a year).
inline constexpr std::uint32_t sts_max_age_limit = 31'557'600;

// RFC 8461 §3.2: "key: value" lines, CRLF or LF, keys case-sensitive as in the ABNF, unknown
// keys ignored; version STSv1, mode, max_age (1-10 digits) required, and at least one mx line
// unless mode is none. A max_age above the limit is capped (documented in docs/mta-sts.md).
// Errors say what is wrong in `detail` (the outcome is sts-policy-invalid); on success
// `detail` is empty or carries a warning (the max_age cap).
std::optional<sts_policy> parse_sts_policy(std::string_view body, std::string& detail);

// RFC 8461 §4.1: the MX host (as written in the MX record, trailing dot ignored) matches
// the pattern case-insensitively; "*.example.com" matches exactly one extra leftmost label.
bool sts_mx_matches(std::string_view pattern, std::string_view mx_host);

// RFC 5321 §4.1.2 Domain (sub-domains of letters, digits and inner hyphens) with the DNS length
// limits (63 per label, 253 in all), so that an MX pattern can name a real host.
bool is_ldh_domain(std::string_view name);
bool sts_policy_covers(const sts_policy& policy, std::string_view mx_host);

// RFC 8460 §3: the TXT RRset at _smtp._tls.<domain>: "v=TLSRPTv1;" then "rua=" with one or
// more comma-separated URIs (mailto: or https:). `found` means exactly one such record, well
// formed, with at least one usable URI; other schemes are left out of `rua` and named in
// `detail`, which also says why when not found.
struct tlsrpt_record {
  bool found = false;
  std::vector<std::string> rua;
  std::string detail;  // why not found/invalid
};
tlsrpt_record parse_tlsrpt_txt(const std::vector<dns::txt_record>& records);

}  // namespace otls::policy
