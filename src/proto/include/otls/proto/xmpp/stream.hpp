// XMPP stream reading (RFC 6120 §4, §11): a bounded, namespace-aware wrapper around expat that
// yields the stream header, each complete top-level element and the stream's end, one at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "otls/core/error.hpp"

namespace otls::proto::xmpp {

inline constexpr std::string_view ns_stream = "http://etherx.jabber.org/streams";
inline constexpr std::string_view ns_client = "jabber:client";
inline constexpr std::string_view ns_server = "jabber:server";
inline constexpr std::string_view ns_tls = "urn:ietf:params:xml:ns:xmpp-tls";
inline constexpr std::string_view ns_stream_errors = "urn:ietf:params:xml:ns:xmpp-streams";
inline constexpr std::string_view ns_sasl = "urn:ietf:params:xml:ns:xmpp-sasl";

// Limits. Real stream features (Prosody, ejabberd) are a few hundred bytes and four levels deep
// counting the stream; these leave room and still bound memory.
inline constexpr unsigned max_depth = 16;     // the stream element is depth 1
inline constexpr std::size_t max_name = 256;  // namespace URI + local name
inline constexpr std::size_t max_attribute_value = 1024;
inline constexpr std::size_t max_attributes = 16;         // per element
inline constexpr std::size_t max_text = 4096;             // character data per element
inline constexpr std::size_t max_elements = 256;          // per top-level element, all levels
inline constexpr std::size_t max_unit_bytes = 64 * 1024;  // header or one top-level element

// One element with its subtree. Names are split by namespace (RFC 6120 §4.8).
struct element {
  std::string ns;                                               // namespace URI, empty when none
  std::string name;                                             // local name
  std::vector<std::pair<std::string, std::string>> attributes;  // "local" or "ns local" -> value
  std::vector<element> children;
  std::string text;  // character data directly inside, bounded by max_text

  bool is(std::string_view want_ns, std::string_view want_name) const {
    return ns == want_ns && name == want_name;
  }
  const std::string* attribute(std::string_view key) const;
  const element* child(std::string_view want_ns, std::string_view want_name) const;
  // "stream:features", "starttls xmlns='...'" and the like, for diagnostics: a compact
  // re-serialisation of the element (attributes and children, text escaped), bounded.
  std::string to_xml() const;
};

struct stream_event {
  enum class kind {
    stream_open,   // <stream:stream ...>: `el` holds the header's name and attributes
    element,       // a complete child of the stream: `el`
    stream_close,  // </stream:stream>
  };
  kind what = kind::element;
  element el;
};

// Reads one stream. XML that RFC 6120 §11 forbids (DTDs, comments, processing instructions
// other than the XML declaration) and input past the limits are errors: malformed_reply with
// error_text() saying what. The parser stops after each event, so bytes behind an event stay
// unparsed and take_leftover() returns them exactly.
class stream_reader {
 public:
  stream_reader();
  ~stream_reader();
  stream_reader(stream_reader&&) noexcept;
  stream_reader& operator=(stream_reader&&) noexcept;

  void feed(std::string_view bytes);
  // The next event; nullopt when more input is needed; an error once the input is not a
  // well-formed, bounded XMPP stream (the reader then stays failed).
  result<std::optional<stream_event>> next();
  // Every byte received after the last event returned, byte for byte. Empties the reader; a
  // fresh reader must be used for the next stream (RFC 6120 §5.4.3.3).
  std::string take_leftover();
  // Bytes received behind the last event (a partial element, or whitespace).
  bool holds_input() const;
  // What made next() fail, in words.
  const std::string& error_text() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// Writes text for an attribute value or character data, escaped (XML 1.0 §2.4).
std::string escape(std::string_view text);

}  // namespace otls::proto::xmpp
