// Rendering of DNS, DANE and MX facts for `otls probe` and `otls policy` (docs/json.md).
#include "dane_report.hpp"

#include <fmt/core.h>

#include "otls/net/error.hpp"

namespace otls::app {
namespace {

std::string describe(const dns::tlsa_record& r) {
  // RFC 7218 acronyms make the three numbers readable.
  static constexpr const char* usages[] = {"PKIX-TA", "PKIX-EE", "DANE-TA", "DANE-EE"};
  static constexpr const char* selectors[] = {"Cert", "SPKI"};
  static constexpr const char* matching[] = {"Full", "SHA2-256", "SHA2-512"};
  return fmt::format("{} {} {} {}({}) {}({}) {}({})", r.usage, r.selector, r.matching_type,
                     r.usage < 4 ? usages[r.usage] : "?", r.usage,
                     r.selector < 2 ? selectors[r.selector] : "?", r.selector,
                     r.matching_type < 3 ? matching[r.matching_type] : "?", r.matching_type);
}

// The DANE outcome of a probe: the refusal, else what the connection showed. Null when
// DANE did not apply and nothing was refused on its account.
nlohmann::json dane_outcome(const probe_result& result) {
  if (result.refusal) return core::to_string(*result.refusal);
  if (!result.dane || !result.dane->applies()) return nullptr;
  const auto o = net::outcome_of(result.report.error);
  if (o == core::outcome::ok && result.dane->verdict == policy::dane_verdict::encrypt)
    return core::to_string(core::outcome::tlsa_invalid);  // TLS used, nothing authenticated
  return core::to_string(o);
}

}  // namespace

std::string hex(const std::vector<std::uint8_t>& bytes) {
  std::string out;
  for (const auto b : bytes) out += fmt::format("{:02x}", b);
  return out;
}

nlohmann::json dane_json(const policy::host_facts& f) {
  using nlohmann::json;
  json tlsa = json::array();
  for (const auto& e : f.tlsa) {
    tlsa.push_back({{"usage", e.record.usage},
                    {"selector", e.record.selector},
                    {"matching_type", e.record.matching_type},
                    {"data", hex(e.record.data)},
                    {"usable", e.usable},
                    {"why_unusable", e.usable ? json(nullptr) : json(e.why_unusable)}});
  }
  return {{"applies", f.applies()},
          {"dnssec",
           f.tlsa_looked_up ? dns::to_string(f.tlsa_dnssec) : dns::to_string(f.address_dnssec)},
          {"tlsa_name", f.tlsa_looked_up ? json(without_root_dot(f.tlsa_name)) : json(nullptr)},
          {"tlsa", tlsa},
          {"usable", f.usable},
          {"reference_names", f.reference_names},
          {"verdict", policy::to_string(f.verdict)},
          {"outcome", f.problem ? json(core::to_string(*f.problem)) : json(nullptr)},
          {"detail", f.detail.empty() ? json(nullptr) : json(f.detail)}};
}

int matched_tlsa_index(const probe_result& result) {
  const auto& tls = result.report.tls;
  if (!result.dane || !tls || !tls->verify.dane || tls->verify.dane_record < 0) return -1;
  // dane_record indexes the usable records handed to OpenSSL; map it back to tlsa[].
  int usable_seen = -1;
  for (std::size_t i = 0; i < result.dane->tlsa.size(); ++i) {
    if (result.dane->tlsa[i].usable && ++usable_seen == tls->verify.dane_record)
      return static_cast<int>(i);
  }
  return -1;
}

nlohmann::json dane_probe_json(const probe_result& result) {
  auto out = dane_json(*result.dane);
  const auto& tls = result.report.tls;
  const int index = matched_tlsa_index(result);
  out["matched"] = index >= 0 ? nlohmann::json{{"record", index}, {"depth", tls->verify.dane_depth}}
                              : nlohmann::json(nullptr);
  out["outcome"] = dane_outcome(result);
  return out;
}

nlohmann::json addresses_json(const policy::host_facts& f) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& a : f.addresses) list.push_back(a.to_string());
  std::vector<std::string> chain;
  for (const auto& n : f.cname_chain) chain.push_back(without_root_dot(n));
  return {{"dnssec", dns::to_string(f.address_dnssec)}, {"cname_chain", chain}, {"list", list}};
}

nlohmann::json mx_lookup_json(const policy::mx_facts& mx) {
  return {{"rcode", dns::to_string(mx.rcode)}, {"dnssec", dns::to_string(mx.dnssec)}};
}

void print_dane_facts(const row_printer& row, const policy::host_facts& f) {
  const bool secure_addresses = f.address_dnssec == dns::dnssec_status::secure;
  std::string addresses;
  for (const auto& a : f.addresses) addresses += (addresses.empty() ? "" : ", ") + a.to_string();
  row("addresses",
      (addresses.empty() ? std::string("none") : addresses) + " (DNSSEC " +
          dns::to_string(f.address_dnssec) + ")",
      secure_addresses ? tone::good : tone::plain);
  if (f.cname_chain.size() > 1) {
    std::string chain;
    for (const auto& n : f.cname_chain) chain += (chain.empty() ? "" : " -> ") + n;
    row("  CNAMEs", chain, tone::dim);
  }
  if (f.tlsa_looked_up) {
    row("TLSA", without_root_dot(f.tlsa_name) + " (DNSSEC " + dns::to_string(f.tlsa_dnssec) + ")",
        f.tlsa_dnssec == dns::dnssec_status::secure ? tone::good : tone::plain);
    for (const auto& e : f.tlsa) {
      row("", describe(e.record) + " " + hex(e.record.data).substr(0, 16) + "...",
          e.usable ? tone::plain : tone::dim);
      if (!e.usable) row("", "  unusable: " + e.why_unusable, tone::warn);
    }
  }
  const tone t = f.verdict == policy::dane_verdict::authenticate ? tone::good
                 : f.verdict == policy::dane_verdict::tempfail   ? tone::bad
                 : f.verdict == policy::dane_verdict::encrypt    ? tone::warn
                                                                 : tone::plain;
  row("DANE", policy::to_string(f.verdict), t);
  if (!f.detail.empty()) row("  why", f.detail, tone::dim);
}

void print_dane_rows(const row_printer& row, const probe_result& result) {
  print_dane_facts(row, *result.dane);
  const auto j = dane_probe_json(result);
  if (!j["matched"].is_null())
    row("  matched",
        fmt::format("TLSA record {} at depth {}", j["matched"]["record"].get<int>(),
                    j["matched"]["depth"].get<int>()),
        tone::good);
}

}  // namespace otls::app
