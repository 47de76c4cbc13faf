// MTA-STS discovery, fetch and cache (RFC 8461 §3.1-3.3, §5.1): the TXT record, the policy
// over HTTPS, and the trust-on-first-use cache in the store. Fetching is behind an interface
// so the rules are tested without sockets; net_sts_fetcher is the real one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "otls/core/outcome.hpp"
#include "otls/dns/resolver.hpp"
#include "otls/net/client.hpp"
#include "otls/policy/mta_sts.hpp"
#include "otls/store/store.hpp"

namespace otls::policy {

using boost::asio::awaitable;

struct sts_fetch_result {
  std::optional<core::outcome> problem;  // sts-policy-fetch-error, -invalid, sts-webpki-invalid
  std::string detail;
  std::string body;  // the policy text when !problem
};

class sts_fetcher {
 public:
  virtual ~sts_fetcher() = default;
  // GET https://mta-sts.<domain>/.well-known/mta-sts.txt, checked per RFC 8461 §3.3.
  virtual awaitable<sts_fetch_result> fetch(std::string domain) = 0;
};

// The real fetcher: mta-sts.<domain> resolved through `resolver`, then net::https_get with
// strict PKIX (ca_file: --sts-cafile, else the system store), 200 only, no redirects,
// media type text/plain (parameters ignored), 64 KiB, one timeout for the whole fetch.
class net_sts_fetcher final : public sts_fetcher {
 public:
  net_sts_fetcher(dns::resolver& resolver, std::string ca_file, net::duration timeout)
      : resolver_(resolver), ca_file_(std::move(ca_file)), timeout_(timeout) {}
  awaitable<sts_fetch_result> fetch(std::string domain) override;

 private:
  dns::resolver& resolver_;
  std::string ca_file_;
  net::duration timeout_;
};

// Classifies an HTTP response per RFC 8461 §3.3 (pure; net_sts_fetcher uses it).
sts_fetch_result check_sts_response(unsigned status, const std::string& content_type,
                                    const std::optional<std::string>& location, std::string body);

enum class cache_action { none, stored, kept, replaced };
const char* to_string(cache_action a) noexcept;

struct sts_lookup {
  std::string domain;  // lower-case, no trailing dot
  sts_txt txt;
  bool txt_dns_failure = false;  // the TXT lookup itself failed (not the same as no record)
  std::string txt_detail;
  bool fetch_attempted = false;
  std::optional<core::outcome> fetch_problem;
  std::string fetch_detail;
  std::optional<store::sts_entry> cached_before;  // what the store held, expired or not
  cache_action action = cache_action::none;
  std::optional<sts_policy> policy;       // in effect (mode none included); nullopt: no policy
  std::optional<store::sts_entry> entry;  // the entry behind `policy`
  std::string source;                     // "fetched", "cache" or "" (no policy)
  std::vector<std::string> warnings;

  // The policy to apply: null when there is none or it says mode none.
  const sts_policy* in_effect() const {
    return policy && policy->mode != sts_mode::none ? &*policy : nullptr;
  }
};

// Discovers, fetches when needed, and caches. `store` may be null (no cache). `now` is seconds
// since the epoch. A changed TXT id or an expired entry triggers a fetch; a valid cached
// policy survives a missing/broken TXT record, a DNS failure and a failed fetch (§3.3).
// `refresh` fetches even when the TXT id matches a valid cached policy (RFC 8461 §5.1: refresh
// before expiry so regularly used policies stay current); a failed refresh keeps the cache.
awaitable<sts_lookup> lookup_sts(dns::resolver& resolver, store::policy_store* store,
                                 sts_fetcher& fetcher, std::string domain, std::int64_t now,
                                 bool refresh = false);

}  // namespace otls::policy
