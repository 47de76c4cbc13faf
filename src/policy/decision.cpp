// The per-MX decision (RFC 7672 for DANE, RFC 8461 §4-5 for MTA-STS, the STARTTLS-Everywhere
// list as a local MTA-STS-like policy, local rules, then the default level).
#include "otls/policy/decision.hpp"

namespace otls::policy {
namespace {

std::string bare(std::string name) {
  return dns::without_root_dot(std::move(name));
}

// A PKIX-verifying decision for an MTA-STS-like source: the MX must be listed (enforce refuses
// otherwise; testing only reports), TLS with a certificate for the MX name (RFC 8461 §4.2).
decision pkix_by_policy(const decision_inputs& in, decision_source source, sts_mode mode,
                        bool covered, std::string_view what) {
  decision d;
  d.source = source;
  d.level = security_level::verify;
  d.verify_names = {bare(in.mx_host)};
  d.report_only = mode == sts_mode::testing;
  d.starttls_mandatory = mode == sts_mode::enforce;
  if (!covered) {
    const std::string why =
        bare(in.mx_host) + " matches no mx pattern of the " + std::string(what) + " policy";
    if (mode == sts_mode::enforce) {
      d.refusal = core::outcome::mx_not_in_policy;
      d.refusal_detail = why + " (mode enforce: the host must not be used, RFC 8461 §4.1)";
    } else {
      d.reported.push_back(core::outcome::mx_not_in_policy);
      d.notes.push_back(why + " (mode testing: reported only)");
    }
  }
  return d;
}

bool local_covers(const local_rule& rule, std::string_view mx) {
  if (rule.mx.empty()) return true;
  for (const auto& p : rule.mx)
    if (sts_mx_matches(p, mx)) return true;
  return false;
}

bool list_covers(const policy_list_entry& entry, std::string_view mx) {
  for (const auto& p : entry.mxs)
    if (list_mx_matches(p, mx)) return true;
  return false;
}

bool sts_active(const sts_policy* p) {
  return p != nullptr && p->mode != sts_mode::none;
}

// The PKIX reference names of a level: verify checks the MX host, secure the next-hop domain.
std::vector<std::string> pkix_names(security_level level, const decision_inputs& in) {
  if (level == security_level::verify) return {bare(in.mx_host)};
  if (level == security_level::secure) return {bare(in.domain)};
  return {};
}

// A failed DNSSEC lookup refuses the host (RFC 7672 §2.1.1).
void refuse_for_dns(const host_facts& dane, decision& d) {
  d.refusal = dane.problem.value_or(core::outcome::dns_failure);
  d.refusal_detail = dane.detail;
}

}  // namespace

const char* to_string(decision_source s) noexcept {
  switch (s) {
    case decision_source::dane:
      return "dane";
    case decision_source::mta_sts:
      return "mta-sts";
    case decision_source::list:
      return "list";
    case decision_source::local:
      return "local";
    case decision_source::fallback:
      return "default";
  }
  return "?";
}

decision decide(const decision_inputs& in) {
  const host_facts none_looked_up;
  const host_facts& dane = in.dane ? *in.dane : none_looked_up;

  // 0. A local rule with only MX patterns restricts the hosts; the other sources still decide
  //    how to talk to the ones it allows.
  if (in.local && !in.local->level && in.local->fingerprints.empty()) {
    decision_inputs rest = in;
    rest.local = nullptr;
    decision d = decide(rest);
    if (!local_covers(*in.local, bare(in.mx_host)) && !d.refusal) {
      d.source = decision_source::local;
      d.refusal = core::outcome::mx_not_in_policy;
      d.refusal_detail =
          bare(in.mx_host) + " matches no mx pattern of the local rule for " + bare(in.domain);
    }
    return d;
  }

  // 1. The administrator's own rule for this domain wins, as smtp_tls_policy_maps does.
  if (in.local && (in.local->level || !in.local->fingerprints.empty())) {
    decision d;
    d.source = decision_source::local;
    // Fingerprints pin the key whatever level is named alongside them.
    d.fingerprints = in.local->fingerprints;
    d.level = d.fingerprints.empty() ? *in.local->level : security_level::fingerprint;
    d.starttls_mandatory = tls_required(d.level, dane.applies());
    d.verify_names = pkix_names(d.level, in);
    if (!local_covers(*in.local, bare(in.mx_host))) {
      d.refusal = core::outcome::mx_not_in_policy;
      d.refusal_detail =
          bare(in.mx_host) + " matches no mx pattern of the local rule for " + bare(in.domain);
    } else if (dane.verdict == dane_verdict::tempfail &&
               properties(d.level).auth == authentication::dane) {
      refuse_for_dns(dane, d);
    }
    return d;
  }

  // 2. A failed DNSSEC lookup for the host: nothing may rescue it (RFC 7672 §2.1.1,
  //    RFC 8461 §2).
  if (dane.verdict == dane_verdict::tempfail) {
    decision d;
    d.source = decision_source::dane;
    d.level = security_level::dane;
    refuse_for_dns(dane, d);
    return d;
  }

  // 3. DANE applies with usable records: DANE decides. MTA-STS's view is checked and reported,
  //    never fatal, and never rescues a DANE failure (RFC 8461 §2).
  if (dane.verdict == dane_verdict::authenticate) {
    decision d;
    d.source = decision_source::dane;
    d.level = security_level::dane;
    d.starttls_mandatory = true;
    if (sts_active(in.sts)) {
      d.report_pkix_check = true;
      d.verify_names = {bare(in.mx_host)};
      d.notes.push_back("DANE decides for this host; the MTA-STS policy (mode " +
                        std::string(to_string(in.sts->mode)) +
                        ") is checked too and its failures are only reported (RFC 8461 §2)");
      if (!sts_policy_covers(*in.sts, bare(in.mx_host))) {
        d.reported.push_back(core::outcome::mx_not_in_policy);
        d.notes.push_back(bare(in.mx_host) +
                          " matches no mx pattern of the MTA-STS policy (reported; DANE decides)");
      }
    }
    return d;
  }

  // 4. A secure TLSA RRset with nothing usable: TLS is mandatory (RFC 7672 §2.2); MTA-STS
  //    enforce still adds its PKIX requirement on top.
  const bool tls_by_dane = dane.verdict == dane_verdict::encrypt;

  if (sts_active(in.sts)) {
    auto d = pkix_by_policy(in, decision_source::mta_sts, in.sts->mode,
                            sts_policy_covers(*in.sts, bare(in.mx_host)), "MTA-STS");
    if (tls_by_dane) {
      d.starttls_mandatory = true;
      d.notes.push_back("the TLSA RRset is secure but unusable: TLS is mandatory (RFC 7672 §2.2)");
    }
    if (in.default_level == security_level::dane_only) {
      // dane-only asks for DANE whatever else is published.
      d.refusal = tls_by_dane ? core::outcome::tlsa_invalid : core::outcome::dane_required;
      d.refusal_detail = "level dane-only: " + dane.detail;
    }
    return d;
  }
  if (in.list && in.list->mode != sts_mode::none) {
    auto d = pkix_by_policy(in, decision_source::list, in.list->mode,
                            list_covers(*in.list, bare(in.mx_host)), "STARTTLS-Everywhere list");
    if (tls_by_dane) d.starttls_mandatory = true;
    return d;
  }

  // 5. Nothing published or configured: the default level, with DANE where it applies.
  decision d;
  d.source = tls_by_dane ? decision_source::dane : decision_source::fallback;
  d.level = in.default_level;
  d.starttls_mandatory = tls_required(d.level, dane.applies());
  d.verify_names = pkix_names(d.level, in);
  if (d.level == security_level::dane_only && !dane.applies()) {
    d.refusal = core::outcome::dane_required;
    d.refusal_detail = "level dane-only: " +
                       (dane.detail.empty() ? std::string("DANE does not apply") : dane.detail);
  } else if (d.level == security_level::dane_only && tls_by_dane) {
    d.refusal = core::outcome::tlsa_invalid;
    d.refusal_detail = dane.detail;
  }
  return d;
}

connection_plan plan_for(const decision& d, const host_facts& facts) {
  connection_plan p;
  if (d.refusal) {
    p.refusal = d.refusal;
    p.detail = d.refusal_detail;
    return p;
  }
  switch (d.level) {
    case security_level::dane:
      p = plan_connection(facts, dane_fallback::may);
      break;
    case security_level::dane_only:
      p = plan_connection(facts, dane_fallback::refuse);
      break;
    default: {
      // Addresses and tempfails still come from the DNS facts.
      p = plan_connection(facts, dane_fallback::may);
      if (!p.connect) return p;
      p.dane.reset();
      p.servername.clear();
      p.warnings.clear();
      p.require_tls = d.starttls_mandatory || tls_required(d.level, false);
      if (d.report_only) p.require_tls = true;  // checked as enforce would, failures reported
      p.verify_pkix = properties(d.level).auth == authentication::pkix;
      if (p.verify_pkix && !d.verify_names.empty()) p.servername = d.verify_names.front();
      p.fingerprints = d.fingerprints;
      if (d.level == security_level::none)
        p.warnings.push_back(
            "level none: TLS would not be used; probed as may to show what is offered");
      break;
    }
  }
  if (d.report_pkix_check && !d.verify_names.empty()) p.pkix_report_name = d.verify_names.front();
  p.report_only = d.report_only;
  if (d.starttls_mandatory && p.connect) p.require_tls = true;
  return p;
}

}  // namespace otls::policy
