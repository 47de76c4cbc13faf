// libFuzzer target: the DNS decoding otls does itself (RFC 1035 §3.1/§4.1.4 names with
// compression, and MX, TXT, TLSA, SRV, CNAME, A/AAAA, DNSKEY RDATA; RFC 6698 TLSA usability
// per RFC 7672 §3.1.3) on arbitrary bytes. The first byte picks the record type.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "otls/dns/rdata.hpp"
#include "otls/policy/dane.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using otls::dns::rr_type;
  static constexpr std::array types{rr_type::a,    rr_type::aaaa, rr_type::mx,    rr_type::txt,
                                    rr_type::tlsa, rr_type::srv,  rr_type::cname, rr_type::dnskey};
  if (size == 0) return 0;
  const auto type = types[data[0] % types.size()];
  const std::span<const std::uint8_t> rdata(data + 1, size - 1);
  if (auto record = otls::dns::parse_rdata(type, rdata)) {
    if (const auto* tlsa = std::get_if<otls::dns::tlsa_record>(&*record)) {
      (void)otls::policy::classify_tlsa(*tlsa, otls::policy::dane_mode::smtp);
      (void)otls::policy::classify_tlsa(*tlsa, otls::policy::dane_mode::generic);
    }
    if (const auto* txt = std::get_if<otls::dns::txt_record>(&*record)) (void)txt->joined();
  }
  // The same bytes as a whole DNS message: names anywhere, and the answer's CNAME chain.
  const std::span<const std::uint8_t> message(data, size);
  for (std::size_t offset = 0; offset < size && offset < 64;) {
    std::size_t at = offset;
    if (!otls::dns::read_name(message, at) || at <= offset) break;
    offset = at;
  }
  (void)otls::dns::cname_chain(message);
  return 0;
}
