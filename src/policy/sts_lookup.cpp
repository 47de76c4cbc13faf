// MTA-STS discovery, fetch and trust-on-first-use caching (RFC 8461 §3.1-3.3, §5.1).
#include "otls/policy/sts_lookup.hpp"

#include <algorithm>
#include <cctype>

#include "otls/core/text.hpp"
#include "otls/net/https.hpp"

namespace otls::policy {
namespace {

using core::to_lower;

// The media type without parameters, lower-case: "Text/Plain; charset=utf-8" -> "text/plain".
std::string media_type(const std::string& content_type) {
  std::string type = content_type.substr(0, content_type.find(';'));
  while (!type.empty() && std::isspace(static_cast<unsigned char>(type.back()))) type.pop_back();
  while (!type.empty() && std::isspace(static_cast<unsigned char>(type.front())))
    type.erase(type.begin());
  return to_lower(type);
}

std::optional<sts_policy> parse_entry(const store::sts_entry& e) {
  std::string detail;
  return parse_sts_policy(e.policy_text, detail);
}

}  // namespace

const char* to_string(cache_action a) noexcept {
  switch (a) {
    case cache_action::none:
      return "none";
    case cache_action::stored:
      return "stored";
    case cache_action::kept:
      return "kept";
    case cache_action::replaced:
      return "replaced";
  }
  return "?";
}

sts_fetch_result check_sts_response(unsigned status, const std::string& content_type,
                                    const std::optional<std::string>& location, std::string body) {
  sts_fetch_result r;
  if (status >= 300 && status < 400) {
    r.problem = core::outcome::sts_policy_fetch_error;
    r.detail = "HTTP " + std::to_string(status) + " redirect" +
               (location ? " to " + *location : std::string()) +
               ", not followed (RFC 8461 §3.3: redirects must not be followed)";
    return r;
  }
  if (status != 200) {
    r.problem = core::outcome::sts_policy_fetch_error;
    r.detail = "HTTP " + std::to_string(status) + " (only 200 is a policy, RFC 8461 §3.3)";
    return r;
  }
  if (media_type(content_type) != "text/plain") {
    r.problem = core::outcome::sts_policy_invalid;
    r.detail = "media type '" + content_type + "' is not text/plain (RFC 8461 §3.2)";
    return r;
  }
  r.body = std::move(body);
  return r;
}

awaitable<sts_fetch_result> net_sts_fetcher::fetch(std::string domain) {
  const std::string host = "mta-sts." + dns::without_root_dot(domain);
  sts_fetch_result r;
  net::https_settings settings;
  settings.timeout = timeout_;
  settings.tls.ca_file = ca_file_;
  settings.tls.servername = host;
  for (const auto type : {dns::rr_type::a, dns::rr_type::aaaa}) {
    auto answer = co_await resolver_.query(host, type);
    if (!answer || answer->outcome != dns::rcode::noerror) continue;
    for (const auto& rec : answer->records) {
      if (const auto* a = std::get_if<dns::address>(&rec)) settings.endpoints.emplace_back(*a, 443);
    }
  }
  if (settings.endpoints.empty()) {
    r.problem = core::outcome::sts_policy_fetch_error;
    r.detail = host + " has no usable address records";
    co_return r;
  }
  diagnostics diag;
  auto response = co_await net::https_get(host, "/.well-known/mta-sts.txt", settings, diag);
  if (!response) {
    const bool webpki = response.error().category() == tls::category() &&
                        response.error() != tls::errc::handshake_failure &&
                        response.error() != tls::errc::legacy_tls_only;
    r.problem = webpki ? core::outcome::sts_webpki_invalid : core::outcome::sts_policy_fetch_error;
    r.detail = "https://" + host + "/.well-known/mta-sts.txt: " + response.error().message() +
               (diag.detail.empty() ? "" : " (" + diag.detail + ")");
    co_return r;
  }
  auto checked = check_sts_response(response->status, response->content_type, response->location,
                                    std::move(response->body));
  if (checked.problem)
    checked.detail = "https://" + host + "/.well-known/mta-sts.txt: " + checked.detail;
  co_return checked;
}

awaitable<sts_lookup> lookup_sts(dns::resolver& resolver, store::policy_store* store,
                                 sts_fetcher& fetcher, std::string domain, std::int64_t now,
                                 bool refresh) {
  sts_lookup out;
  out.domain = to_lower(dns::without_root_dot(std::move(domain)));

  // The cache first: a valid entry is the fall-back for every failure below (§3.3).
  std::optional<sts_policy> cached_policy;
  if (store) {
    auto got = store->get_sts(out.domain);
    if (!got) {
      out.warnings.push_back("the policy cache could not be read: " + got.error().message());
    } else if (*got) {
      out.cached_before = **got;
      if (out.cached_before->expires_at > now) cached_policy = parse_entry(*out.cached_before);
    }
  }
  auto use_cache = [&](const std::string& why) {
    out.policy = cached_policy;
    out.entry = out.cached_before;
    out.source = "cache";
    out.action = cache_action::kept;
    out.warnings.push_back(why + "; the cached policy (id " + out.cached_before->id +
                           ") still applies until it expires (RFC 8461 §3.3)");
  };

  // Discovery: _mta-sts.<domain> TXT (§3.1). A DNS failure is not the same as no record.
  const std::string txt_name = "_mta-sts." + out.domain;
  auto answer = co_await resolver.query(txt_name, dns::rr_type::txt);
  if (!answer || answer->outcome == dns::rcode::servfail) {
    out.txt_dns_failure = true;
    out.txt_detail = "the TXT lookup of " + txt_name + " failed" +
                     (answer ? std::string(" (SERVFAIL)") : ": " + answer.error().message());
  } else {
    std::vector<dns::txt_record> records;
    for (const auto& rec : answer->records)
      if (const auto* t = std::get_if<dns::txt_record>(&rec)) records.push_back(*t);
    out.txt = parse_sts_txt(records);
    out.txt_detail = out.txt.detail;
  }

  if (out.txt_dns_failure || out.txt.status != sts_txt_status::found) {
    if (cached_policy) use_cache(out.txt_detail.empty() ? "no MTA-STS TXT record" : out.txt_detail);
    co_return out;
  }

  // The TXT id matches the cached policy's: nothing to fetch (§3.3).
  if (cached_policy && out.cached_before->id == out.txt.id && !refresh) {
    out.policy = cached_policy;
    out.entry = out.cached_before;
    out.source = "cache";
    out.action = cache_action::kept;
    co_return out;
  }

  out.fetch_attempted = true;
  auto fetched = co_await fetcher.fetch(out.domain);
  std::optional<sts_policy> policy;
  if (!fetched.problem) {
    std::string detail;
    policy = parse_sts_policy(fetched.body, detail);
    if (!policy) {
      fetched.problem = core::outcome::sts_policy_invalid;
      fetched.detail = "the policy of " + out.domain + " is invalid: " + detail;
    }
  }
  if (fetched.problem) {
    out.fetch_problem = fetched.problem;
    out.fetch_detail = fetched.detail;
    if (cached_policy) use_cache("the policy could not be fetched");
    co_return out;
  }

  store::sts_entry entry{out.domain, out.txt.id, fetched.body, now,
                         now + static_cast<std::int64_t>(policy->max_age)};
  out.policy = std::move(policy);
  out.entry = entry;
  out.source = "fetched";
  // A fetched policy, mode none included, replaces what was cached (§3.3, §5.1).
  if (store) {
    if (auto ec = store->put_sts(entry)) {
      out.warnings.push_back("the policy could not be cached: " + ec.message());
    } else {
      out.action = out.cached_before ? cache_action::replaced : cache_action::stored;
    }
  }
  co_return out;
}

}  // namespace otls::policy
