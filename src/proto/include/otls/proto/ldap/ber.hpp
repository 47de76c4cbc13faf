// A strict, bounded BER subset for LDAP (X.690 §8 as restricted by RFC 4511 §5.1): definite
// lengths only, low tag numbers only, bounded depth and message size. Reader and writer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "otls/core/error.hpp"

namespace otls::proto::ldap::ber {

// No LDAP message this tool sends or answers comes near 64 KiB (a RootDSE is a few hundred
// bytes); anything larger is refused before it is buffered in full.
inline constexpr std::size_t max_message = 64 * 1024;
// LDAPMessage > protocolOp > attribute list > attribute > value set > value: 6 levels; filters
// nest further, which the server skips without entering.
inline constexpr int max_depth = 8;

enum class tag_class : std::uint8_t {
  universal = 0,
  application = 1,
  context = 2,
  private_use = 3
};

// Identifier octets (X.690 §8.1.2): class, primitive/constructed, number (< 31 only).
struct tag {
  tag_class cls = tag_class::universal;
  bool constructed = false;
  std::uint8_t number = 0;

  std::uint8_t identifier() const {
    return static_cast<std::uint8_t>((static_cast<unsigned>(cls) << 6) | (constructed ? 0x20 : 0) |
                                     number);
  }
  static tag from_identifier(std::uint8_t b) {
    return {static_cast<tag_class>(b >> 6), (b & 0x20) != 0, static_cast<std::uint8_t>(b & 0x1f)};
  }
  bool operator==(const tag&) const = default;
};

// Universal tags LDAP uses.
inline constexpr tag boolean_tag{tag_class::universal, false, 1};
inline constexpr tag integer_tag{tag_class::universal, false, 2};
inline constexpr tag octet_string_tag{tag_class::universal, false, 4};
inline constexpr tag enumerated_tag{tag_class::universal, false, 10};
inline constexpr tag sequence_tag{tag_class::universal, true, 16};
inline constexpr tag set_tag{tag_class::universal, true, 17};
inline constexpr tag application(std::uint8_t n, bool constructed) {
  return {tag_class::application, constructed, n};
}
inline constexpr tag context(std::uint8_t n, bool constructed) {
  return {tag_class::context, constructed, n};
}

// One TLV: its tag, its contents, and the whole encoding (identifier, length and contents), all
// views into the buffer that was read.
struct element {
  ber::tag tag;
  std::string_view content;
  std::string_view raw;
};

// How far the first TLV of a buffer could be read.
enum class header_status {
  complete,   // header and all contents present
  need_more,  // a prefix of a valid TLV: read more
  malformed,  // not BER as LDAP allows it (indefinite length, high tag number, ...)
  too_big,    // the contents would exceed the limit
};

struct header {
  ber::tag tag;
  std::size_t header_size = 0;
  std::size_t content_size = 0;
};

// Reads the identifier and length octets at the start of `in` (X.690 §8.1.2-8.1.3). Lengths in
// the long form may use up to 4 octets (OpenLDAP's liblber always writes 4) and need not be
// minimal; the indefinite form (0x80) and the reserved 0xFF are malformed. `complete` also
// requires the contents to be present.
header_status read_header(std::string_view in, header& out, std::size_t limit = max_message);

// Reads the TLVs of one constructed element's contents in order. Every error is
// proto::errc::malformed_reply.
class reader {
 public:
  explicit reader(std::string_view content, int depth = 0) : rest_(content), depth_(depth) {}

  bool at_end() const { return rest_.empty(); }
  // The next TLV, which must lie entirely within the contents.
  result<element> next();
  // The next TLV if it has tag `t`; nothing is consumed otherwise.
  result<std::optional<element>> next_if(tag t);
  // The next TLV, which must have tag `t`.
  result<element> expect(tag t);
  // A reader over a constructed element's contents, one level deeper (max_depth).
  result<reader> enter(const element& e) const;

 private:
  std::string_view rest_;
  int depth_;
};

// INTEGER or ENUMERATED contents (X.690 §8.3): 1-4 octets, minimal (no redundant leading
// 0x00/0xFF), non-negative: LDAP's 0..maxInt (RFC 4511 §4.1.1).
result<std::int32_t> to_int(const element& e);
// BOOLEAN contents: one octet.
result<bool> to_bool(const element& e);

// Encoding (minimal definite lengths, as RFC 4511 §5.1 asks).
std::string tlv(tag t, std::string_view content);
std::string integer(std::int32_t v, tag t = integer_tag);
inline std::string enumerated(std::int32_t v) {
  return integer(v, enumerated_tag);
}
inline std::string octet_string(std::string_view s, tag t = octet_string_tag) {
  return tlv(t, s);
}
inline std::string sequence(std::string_view content) {
  return tlv(sequence_tag, content);
}

}  // namespace otls::proto::ldap::ber
