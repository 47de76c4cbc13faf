// HTTP/1.1 message reading for the RFC 2817 upgrade dialect: Boost.Beast's parser (RFC 9112
// framing) behind a bounded buffer, one message at a time, every unparsed byte kept for
// take_leftover(). Header-only Beast, no sockets: the parser is fed with put() on buffers.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "otls/core/error.hpp"
#include "otls/core/text.hpp"

namespace otls::proto::http {

// Limits (DESIGN.md rule 5): a header larger than this is refused, not buffered further.
inline constexpr std::size_t max_header_bytes = 8 * 1024;
// The dialect never needs a body; a bounded one is read only to find the message's end.
inline constexpr std::size_t max_body_bytes = 64 * 1024;
// Interim (1xx) responses skipped before the final one.
inline constexpr unsigned max_interim_responses = 8;

struct field {
  std::string name;
  std::string value;
};

// What a request and a response share: version and header fields.
struct message_base {
  unsigned version = 11;  // 10 for HTTP/1.0, 11 for HTTP/1.1
  std::vector<field> fields;
  std::string body;

  // Every value of the fields named `name` (case-insensitive), joined with ", "; nullopt if none.
  std::optional<std::string> get(std::string_view name) const;
  // The comma-separated tokens of every field named `name` (RFC 9110 §5.6.1), trimmed.
  std::vector<std::string> tokens(std::string_view name) const;
  // Whether `name` lists `token` (case-insensitive), e.g. Connection: keep-alive, Upgrade.
  bool lists(std::string_view name, std::string_view token) const;
  // Whether the Upgrade field names TLS/1.x (RFC 2817 §3.1's "TLS/1.0"; later minors tolerated).
  bool upgrade_lists_tls() const;
  // Header lines "Name: value", bounded in count and length, for reports.
  std::vector<std::string> header_lines() const;
};

struct response : message_base {
  unsigned status = 0;
  std::string reason;

  std::string status_line() const;  // "HTTP/1.1 101 Switching Protocols", printable only
  // The status line and the header lines, for diagnostics (the peer's own words).
  std::vector<std::string> as_peer_text() const;
};

struct request : message_base {
  std::string method;  // as sent; methods are case-sensitive (RFC 9110 §9.1)
  std::string target;  // request-target: "*" for OPTIONS * (asterisk-form)

  std::string request_line() const;  // printable only, bounded
};

// Reads one message after another with Beast's parser. next() returns a complete message,
// nullopt when more bytes are needed, or errc::malformed_reply (error_detail() says why: not
// HTTP, header or body too large). The parser never consumes past a complete message: a 101's
// header is all it takes, so what follows stays for take_leftover() (DESIGN.md rule 1).
//
// header_only: next() returns each message as soon as its header is complete (body empty) and
// the body's bytes stay unread, for a client that decides on the status and headers alone and
// then ends the session, so that a large or endless body cannot hold it up.
template <class Message>
class message_reader {
 public:
  explicit message_reader(bool header_only = false);
  ~message_reader();
  message_reader(message_reader&&) noexcept;
  message_reader& operator=(message_reader&&) noexcept;

  void feed(std::string_view bytes);
  // The peer closed: a response whose body runs to the close (no Content-Length) completes.
  void on_eof();
  result<std::optional<Message>> next();
  // Every byte received and not yet part of a returned message; the reader starts afresh.
  std::string take_leftover();
  // Whether part of a message is buffered or parsed (an EOF now cuts a message).
  bool mid_message() const;
  const std::string& error_detail() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

using response_reader = message_reader<response>;
using request_reader = message_reader<request>;

// ASCII case-insensitive comparison (field names, tokens: RFC 9110 §5.1, §7.8).
using core::iequals;

// Printable, bounded rendering of peer bytes for reports (controls become '?').
std::string printable(std::string_view text, std::size_t limit = 200);

}  // namespace otls::proto::http
