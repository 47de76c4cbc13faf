// How DNS, DANE and MX facts read in `otls probe` and `otls policy` output: JSON
// (docs/json.md) and aligned human rows. RFC 7672 terms, RFC 8460 outcome names.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "otls/policy/dane.hpp"
#include "otls/policy/mx.hpp"
#include "probe.hpp"
#include "terminal.hpp"

namespace otls::app {

using row_printer = std::function<void(std::string_view key, const std::string& value, tone t)>;

// The DANE lookup of one host: applies, dnssec, tlsa_name, tlsa[], usable, verdict, outcome.
nlohmann::json dane_json(const policy::host_facts& facts);
// Which of facts.tlsa[] matched the chain in this probe, or -1.
int matched_tlsa_index(const probe_result& result);
// The same plus what the connection showed: matched record and depth, and the outcome.
nlohmann::json dane_probe_json(const probe_result& result);
// The host's addresses with their DNSSEC status and CNAME chain.
nlohmann::json addresses_json(const policy::host_facts& facts);
// The MX lookup: rcode and DNSSEC status of the MX RRset.
nlohmann::json mx_lookup_json(const policy::mx_facts& mx);

void print_dane_rows(const row_printer& row, const probe_result& result);
void print_dane_facts(const row_printer& row, const policy::host_facts& facts);

std::string hex(const std::vector<std::uint8_t>& bytes);
using dns::without_root_dot;

}  // namespace otls::app
