// A table-driven dns::resolver for unit tests of policy code (DESIGN.md "tests/support"):
// answers come from a map, so DNSSEC cases (RFC 4033-4035) are set up without sockets.
#pragma once

#include <algorithm>
#include <cctype>
#include <map>
#include <utility>

#include "otls/dns/resolver.hpp"

namespace otls::dns::testing {

class fake_resolver final : public resolver {
 public:
  // Answers `name`/`type` with `a`; the stored qname/type are filled in for convenience.
  fake_resolver& add(std::string name, rr_type type, answer a) {
    a.qname = key_name(name);
    a.type = type;
    if (a.canonical_name.empty()) a.canonical_name = a.qname;
    if (a.cname_chain.empty()) a.cname_chain = {a.qname};
    table_[{key_name(std::move(name)), type}] = std::move(a);
    return *this;
  }
  // Makes `name`/`type` fail without an answer (timeouts, broken configuration).
  fake_resolver& fail(std::string name, rr_type type, error_code ec) {
    errors_[{key_name(std::move(name)), type}] = ec;
    return *this;
  }

  // Unknown names are NXDOMAIN with `default_status` (insecure unless changed).
  dnssec_status default_status = dnssec_status::insecure;
  // What trust_anchor_zones() reports (the root, as with Debian's anchor, unless changed).
  std::vector<std::string> anchor_zones{"."};

  std::vector<std::string> trust_anchor_zones() const override { return anchor_zones; }

  awaitable<result<answer>> query(std::string name, rr_type type) override {
    queries_.emplace_back(key_name(name), type);
    const auto key = std::make_pair(key_name(name), type);
    if (auto e = errors_.find(key); e != errors_.end()) co_return e->second;
    if (auto it = table_.find(key); it != table_.end()) co_return it->second;
    answer a;
    a.qname = key.first;
    a.type = type;
    a.outcome = rcode::nxdomain;
    a.dnssec = default_status;
    a.canonical_name = a.qname;
    a.cname_chain = {a.qname};
    co_return a;
  }

  // Every query asked so far, in order (to check, e.g., that TLSA follows a secure A).
  const std::vector<std::pair<std::string, rr_type>>& queries() const { return queries_; }

 private:
  // DNS names compare case-insensitively (RFC 4343) and we key them fully qualified.
  static std::string key_name(std::string n) {
    std::transform(n.begin(), n.end(), n.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (n.empty() || n.back() != '.') n += '.';
    return n;
  }

  std::map<std::pair<std::string, rr_type>, answer> table_;
  std::map<std::pair<std::string, rr_type>, error_code> errors_;
  std::vector<std::pair<std::string, rr_type>> queries_;
};

// A secure NOERROR answer holding `records`, the common case in tests.
inline answer secure_answer(std::vector<record> records) {
  answer a;
  a.outcome = rcode::noerror;
  a.dnssec = dnssec_status::secure;
  a.records = std::move(records);
  return a;
}

// The same with another status and rcode: insecure data, secure or insecure NODATA, ...
inline answer make_answer(rcode outcome, dnssec_status status, std::vector<record> records = {}) {
  answer a;
  a.outcome = outcome;
  a.dnssec = status;
  a.records = std::move(records);
  return a;
}

// What the unbound resolver returns for data that failed validation: SERVFAIL, no records.
inline answer bogus_answer(std::string why = "signature expired") {
  answer a;
  a.outcome = rcode::servfail;
  a.dnssec = dnssec_status::bogus;
  a.why_bogus = std::move(why);
  return a;
}

}  // namespace otls::dns::testing
