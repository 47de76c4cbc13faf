// Strict BER subset for LDAP (X.690 §8.1-8.3, RFC 4511 §5.1): bounded, definite lengths only.
#include "otls/proto/ldap/ber.hpp"

#include "otls/proto/dialect.hpp"

namespace otls::proto::ldap::ber {

header_status read_header(std::string_view in, header& out, std::size_t limit) {
  if (in.empty()) return header_status::need_more;
  const auto id = static_cast<std::uint8_t>(in[0]);
  // High tag numbers (X.690 §8.1.2.4) never occur in LDAP.
  if ((id & 0x1f) == 0x1f) return header_status::malformed;
  if (in.size() < 2) return header_status::need_more;
  const auto first = static_cast<std::uint8_t>(in[1]);
  std::size_t size = 0;
  std::size_t header_size = 2;
  if (first < 0x80) {
    size = first;
  } else {
    // 0x80 is the indefinite form (RFC 4511 §5.1 forbids it), 0xFF is reserved (X.690 §8.1.3.5).
    const std::size_t octets = first & 0x7f;
    if (octets == 0 || first == 0xff || octets > 4) return header_status::malformed;
    if (in.size() < 2 + octets) return header_status::need_more;
    for (std::size_t i = 0; i < octets; ++i)
      size = (size << 8) | static_cast<std::uint8_t>(in[2 + i]);
    header_size += octets;
  }
  out = {tag::from_identifier(id), header_size, size};
  if (size > limit) return header_status::too_big;
  if (in.size() - header_size < size) return header_status::need_more;
  return header_status::complete;
}

result<element> reader::next() {
  header h;
  // Inside a complete element there is nothing more to wait for: a short TLV is malformed.
  if (read_header(rest_, h, rest_.size()) != header_status::complete) return errc::malformed_reply;
  const std::size_t total = h.header_size + h.content_size;
  element e{h.tag, rest_.substr(h.header_size, h.content_size), rest_.substr(0, total)};
  rest_.remove_prefix(total);
  return e;
}

result<std::optional<element>> reader::next_if(tag t) {
  if (rest_.empty()) return std::optional<element>{};
  if (tag::from_identifier(static_cast<std::uint8_t>(rest_[0])) != t)
    return std::optional<element>{};
  auto e = next();
  if (!e) return e.error();
  return std::optional<element>{*e};
}

result<element> reader::expect(tag t) {
  auto e = next();
  if (!e) return e.error();
  if (e->tag != t) return errc::malformed_reply;
  return e;
}

result<reader> reader::enter(const element& e) const {
  if (!e.tag.constructed || depth_ + 1 >= max_depth) return errc::malformed_reply;
  return reader(e.content, depth_ + 1);
}

result<std::int32_t> to_int(const element& e) {
  const std::string_view c = e.content;
  if (e.tag.constructed || c.empty() || c.size() > 4) return errc::malformed_reply;
  const auto b0 = static_cast<std::uint8_t>(c[0]);
  if (b0 & 0x80) return errc::malformed_reply;  // negative: outside 0..maxInt
  // X.690 §8.3.2: the first nine bits are never all zero (or all one).
  if (c.size() > 1 && b0 == 0 && !(static_cast<std::uint8_t>(c[1]) & 0x80))
    return errc::malformed_reply;
  std::int32_t v = 0;
  for (char ch : c) v = static_cast<std::int32_t>((v << 8) | static_cast<std::uint8_t>(ch));
  return v;
}

result<bool> to_bool(const element& e) {
  if (e.tag.constructed || e.content.size() != 1) return errc::malformed_reply;
  return e.content[0] != 0;
}

std::string tlv(tag t, std::string_view content) {
  std::string out(1, static_cast<char>(t.identifier()));
  const std::size_t n = content.size();
  if (n < 0x80) {
    out += static_cast<char>(n);
  } else {
    std::string len;
    for (std::size_t v = n; v; v >>= 8) len.insert(len.begin(), static_cast<char>(v & 0xff));
    out += static_cast<char>(0x80 | len.size());
    out += len;
  }
  out += content;
  return out;
}

std::string integer(std::int32_t v, tag t) {
  // Minimal two's complement; LDAP values are non-negative.
  std::string c;
  auto u = static_cast<std::uint32_t>(v < 0 ? 0 : v);
  do {
    c.insert(c.begin(), static_cast<char>(u & 0xff));
    u >>= 8;
  } while (u);
  if (static_cast<std::uint8_t>(c[0]) & 0x80) c.insert(c.begin(), '\0');
  return tlv(t, c);
}

}  // namespace otls::proto::ldap::ber
