// Bounds-checked decoding of DNS names (RFC 1035 §3.1, §4.1.4) and of the RDATA of
// A, AAAA (RFC 3596), MX, TXT, CNAME (RFC 1035 §3.3), SRV (RFC 2782) and TLSA (RFC 6698).
#include "otls/dns/rdata.hpp"

#include <array>

namespace otls::dns {
namespace {

constexpr std::size_t max_name_wire = 255;  // RFC 1035 §2.3.4
constexpr int max_chain = 16;               // CNAME hops before we call it a loop

// Appends one label in RFC 1035 §5.1 presentation form.
void append_label(std::string& out, wire label) {
  static constexpr char digits[] = "0123456789";
  for (std::uint8_t c : label) {
    if (c == '.' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c <= 0x20 || c >= 0x7f) {
      out += '\\';
      out += digits[c / 100];
      out += digits[(c / 10) % 10];
      out += digits[c % 10];
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '.';
}

std::uint16_t get16(wire w, std::size_t at) {
  return static_cast<std::uint16_t>((w[at] << 8) | w[at + 1]);
}

// Reads an uncompressed name that must end exactly at the end of rdata.
result<std::string> whole_name(wire rdata, std::size_t offset) {
  auto name = read_name(rdata.first(rdata.size()), offset);
  if (!name) return name.error();
  if (offset != rdata.size()) return errc::malformed_rdata;
  return name;
}

}  // namespace

result<std::string> read_name(wire message, std::size_t& offset) {
  std::string out;
  std::size_t pos = offset;
  std::size_t wire_len = 0;
  bool jumped = false;
  // Every pointer must point strictly before the previous one, so this terminates.
  std::size_t limit = offset;
  for (;;) {
    if (pos >= message.size()) return errc::malformed_rdata;
    const std::uint8_t len = message[pos];
    if ((len & 0xC0) == 0xC0) {
      if (pos + 1 >= message.size()) return errc::malformed_rdata;
      const std::size_t target = get16(message, pos) & 0x3FFF;
      if (target >= limit) return errc::malformed_rdata;
      if (!jumped) offset = pos + 2;
      jumped = true;
      limit = target;
      pos = target;
      continue;
    }
    if ((len & 0xC0) != 0) return errc::malformed_rdata;  // RFC 6891 extended labels: unused
    wire_len += 1 + len;
    if (wire_len > max_name_wire) return errc::malformed_rdata;
    if (len == 0) {
      if (!jumped) offset = pos + 1;
      break;
    }
    if (pos + 1 + len > message.size()) return errc::malformed_rdata;
    append_label(out, message.subspan(pos + 1, len));
    pos += 1 + len;
  }
  // The root name; built separately because GCC 12 misreports `out = "."` (PR 105329).
  if (out.empty()) return std::string(1, '.');
  return out;
}

result<address> parse_a(wire rdata) {
  if (rdata.size() != 4) return errc::malformed_rdata;
  boost::asio::ip::address_v4::bytes_type b;
  std::copy(rdata.begin(), rdata.end(), b.begin());
  return address(boost::asio::ip::address_v4(b));
}

result<address> parse_aaaa(wire rdata) {
  if (rdata.size() != 16) return errc::malformed_rdata;
  boost::asio::ip::address_v6::bytes_type b;
  std::copy(rdata.begin(), rdata.end(), b.begin());
  return address(boost::asio::ip::address_v6(b));
}

result<mx_record> parse_mx(wire rdata) {
  if (rdata.size() < 3) return errc::malformed_rdata;
  auto exchange = whole_name(rdata, 2);
  if (!exchange) return exchange.error();
  return mx_record{get16(rdata, 0), std::move(*exchange)};
}

result<txt_record> parse_txt(wire rdata) {
  // RFC 1035 §3.3.14: one or more <character-string>s, each a length octet and its bytes.
  if (rdata.empty()) return errc::malformed_rdata;
  txt_record txt;
  std::size_t pos = 0;
  while (pos < rdata.size()) {
    const std::size_t len = rdata[pos];
    if (pos + 1 + len > rdata.size()) return errc::malformed_rdata;
    const auto s = rdata.subspan(pos + 1, len);
    txt.strings.emplace_back(s.begin(), s.end());
    pos += 1 + len;
  }
  return txt;
}

result<tlsa_record> parse_tlsa(wire rdata) {
  // RFC 6698 §2.1: usage, selector, matching type, then the association data. Empty data
  // is malformed; unknown usages and lengths are kept so that policy can call them unusable.
  if (rdata.size() < 4) return errc::malformed_rdata;
  return tlsa_record{rdata[0], rdata[1], rdata[2], {rdata.begin() + 3, rdata.end()}};
}

result<srv_record> parse_srv(wire rdata) {
  if (rdata.size() < 7) return errc::malformed_rdata;
  auto target = whole_name(rdata, 6);
  if (!target) return target.error();
  return srv_record{get16(rdata, 0), get16(rdata, 2), get16(rdata, 4), std::move(*target)};
}

result<cname_record> parse_cname(wire rdata) {
  auto target = whole_name(rdata, 0);
  if (!target) return target.error();
  return cname_record{std::move(*target)};
}

result<dnskey_record> parse_dnskey(wire rdata) {
  // RFC 4034 §2.1: flags, protocol (always 3), algorithm, then a non-empty public key.
  if (rdata.size() < 5) return errc::malformed_rdata;
  return dnskey_record{get16(rdata, 0), rdata[2], rdata[3], {rdata.begin() + 4, rdata.end()}};
}

result<record> parse_rdata(rr_type type, wire rdata) {
  auto lift = [](auto r) -> result<record> {
    if (!r) return r.error();
    return record(std::move(*r));
  };
  switch (type) {
    case rr_type::a:
      return lift(parse_a(rdata));
    case rr_type::aaaa:
      return lift(parse_aaaa(rdata));
    case rr_type::mx:
      return lift(parse_mx(rdata));
    case rr_type::txt:
      return lift(parse_txt(rdata));
    case rr_type::tlsa:
      return lift(parse_tlsa(rdata));
    case rr_type::srv:
      return lift(parse_srv(rdata));
    case rr_type::cname:
      return lift(parse_cname(rdata));
    case rr_type::dnskey:
      return lift(parse_dnskey(rdata));
  }
  return errc::malformed_rdata;
}

namespace {

// Case-insensitive comparison of presentation-form names (RFC 4343).
bool same_name(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

}  // namespace

result<std::vector<std::string>> cname_chain(wire message) {
  // RFC 1035 §4.1: 12-octet header, then the question (name, type, class), then answers.
  if (message.size() < 12) return errc::malformed_rdata;
  const std::size_t qdcount = get16(message, 4);
  const std::size_t ancount = get16(message, 6);
  if (qdcount != 1) return errc::malformed_rdata;
  std::size_t pos = 12;
  auto qname = read_name(message, pos);
  if (!qname) return qname.error();
  if (pos + 4 > message.size()) return errc::malformed_rdata;
  pos += 4;

  std::vector<std::pair<std::string, std::string>> aliases;  // owner → target
  for (std::size_t i = 0; i < ancount; ++i) {
    auto owner = read_name(message, pos);
    if (!owner) return owner.error();
    if (pos + 10 > message.size()) return errc::malformed_rdata;
    const auto type = get16(message, pos);
    const std::size_t rdlength = get16(message, pos + 8);
    pos += 10;
    if (pos + rdlength > message.size()) return errc::malformed_rdata;
    if (type == static_cast<std::uint16_t>(rr_type::cname)) {
      // The target may be compressed against the whole message, so read it from there.
      std::size_t at = pos;
      auto target = read_name(message, at);
      if (!target) return target.error();
      if (at != pos + rdlength) return errc::malformed_rdata;
      aliases.emplace_back(std::move(*owner), std::move(*target));
    }
    pos += rdlength;
  }

  std::vector<std::string> chain{*qname};
  for (int hop = 0; hop < max_chain; ++hop) {
    const std::string& current = chain.back();
    auto it = std::find_if(aliases.begin(), aliases.end(),
                           [&](const auto& a) { return same_name(a.first, current); });
    if (it == aliases.end()) break;
    chain.push_back(it->second);
  }
  return chain;
}

std::string txt_record::joined() const {
  std::string out;
  for (const auto& s : strings) out += s;
  return out;
}

}  // namespace otls::dns
