// Decoders for the DNS wire format otls reads itself: domain names (RFC 1035 §3.1, §4.1.4)
// and the RDATA of A, AAAA, MX, TXT, SRV, CNAME, DNSKEY and TLSA (RFC 1035, 3596, 2782,
// 4034, 6698).
// Every read is bounds-checked; malformed input is an error, never a crash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "otls/dns/resolver.hpp"

namespace otls::dns {

using wire = std::span<const std::uint8_t>;

// Reads the name at `offset` in `message`, following compression pointers (which must
// point backwards, so loops are impossible), and advances `offset` past the name.
// The result is in presentation form with a trailing dot ("." for the root); dots,
// backslashes and non-printable octets inside labels are escaped as in RFC 1035 §5.1.
result<std::string> read_name(wire message, std::size_t& offset);

// RDATA decoders. The input is exactly one record's RDATA; trailing bytes are an error.
// Names inside are expected uncompressed (RFC 3597 §4: as libunbound hands them over).
result<address> parse_a(wire rdata);
result<address> parse_aaaa(wire rdata);
result<mx_record> parse_mx(wire rdata);
result<txt_record> parse_txt(wire rdata);
result<tlsa_record> parse_tlsa(wire rdata);
result<srv_record> parse_srv(wire rdata);
result<cname_record> parse_cname(wire rdata);
result<dnskey_record> parse_dnskey(wire rdata);
result<record> parse_rdata(rr_type type, wire rdata);

// The CNAME chain in a full DNS response (the answer section), starting at the question
// name: {qname, alias target, ..., canonical name}. At most 16 hops (loops end there).
result<std::vector<std::string>> cname_chain(wire message);

}  // namespace otls::dns
