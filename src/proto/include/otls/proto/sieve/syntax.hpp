// ManageSieve syntax (RFC 5804 §4): atoms, quoted strings with \" and \\ escapes, literals {n}
// and {n+}, parenthesised response codes; capability responses ending in OK/NO/BYE. One
// tokenizer serves both roles, bounded in line length, literal size and token count.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "otls/core/byte_buffer.hpp"
#include "otls/core/error.hpp"

namespace otls::proto::sieve {

// RFC 5804 sets no line limit. Capability lines of real servers stay under 1 KiB (Dovecot's
// SIEVE list is ~300 octets); scripts travel as literals, which we never need to hold.
inline constexpr std::size_t max_line = 8192;           // one physical line, literals excluded
inline constexpr std::size_t max_literal = 64 * 1024;   // all literal octets of one logical line
inline constexpr std::size_t max_tokens = 64;           // per logical line
inline constexpr std::size_t max_response_lines = 256;  // capability lines plus the status line
inline constexpr std::size_t max_response_bytes = 256 * 1024;

struct token {
  enum class kind { atom, string, open, close };
  kind what = kind::atom;
  std::string text;      // atom as sent; string decoded (escapes removed, literal octets)
  bool literal = false;  // the string came as {n} / {n+}
};

// One logical line: tokens up to CRLF, where a literal's octets may contain anything.
struct logical_line {
  std::vector<token> tokens;
  std::string raw;  // the bytes it was parsed from, for leftovers
};

// Splits input into logical lines. Bare LF also ends a line (Dovecot accepts it; hand-typed
// sessions send it); a CR not followed by LF is a syntax error.
class tokenizer {
 public:
  tokenizer() : buffer_(max_line + max_literal + 64 * 1024) {}

  // A burst of unread input beyond the buffer's limit fails the tokenizer (core::errc::
  // buffer_limit, reported by the next next()).
  void feed(std::string_view bytes);
  // The next complete line, nullopt when more input is needed, or an error: core::errc::
  // line_too_long (a line or literal over its limit) and buffer_limit stay; proto::errc::
  // malformed_reply is a syntax error that skip_line() can recover from.
  result<std::optional<logical_line>> next();
  // After a syntax error: drop input through the end of the offending physical line.
  void skip_line();
  // Every byte received and not returned as a line, including a partly parsed one.
  std::string take_leftover();
  std::size_t buffered() const { return buffer_.size(); }
  // Why the last error happened, for diagnostics.
  const std::string& detail() const { return detail_; }

 private:
  error_code error(error_code ec, std::string detail);
  void reset_line();

  core::byte_buffer buffer_;
  std::vector<token> tokens_;      // tokens of the current line so far
  std::size_t pos_ = 0;            // bytes of the current line already tokenized
  std::size_t segment_start_ = 0;  // start of the current physical line (after a literal)
  std::size_t literal_total_ = 0;  // literal octets in the current line
  std::size_t literal_due_ = 0;    // octets of an announced literal still to read
  bool in_literal_ = false;
  bool skipping_ = false;  // discarding up to the next LF after a syntax error
  error_code failed_;      // sticky limit errors
  std::string detail_;
};

// A string as sent on the wire: quoted with escapes, or a literal when it holds CR, LF or NUL
// (RFC 5804 §4: those are not allowed in quoted strings).
std::string quote(std::string_view s);

enum class status { ok, no, bye };

struct capability {
  std::string name;                  // upper-cased (capability names are case-insensitive)
  std::optional<std::string> value;  // absent for "STARTTLS"
};

// A capability response (§1.7) or a plain one: zero or more capability lines, then OK/NO/BYE
// with an optional response code "(...)" and optional human-readable text.
struct response {
  std::vector<capability> capabilities;
  status what = status::ok;
  std::string code;  // inside the parentheses, re-serialised: "TAG \"x\"", "TRYLATER"
  std::string text;

  bool has(std::string_view name) const;  // case-insensitive
  // Readable capability list for reports: "IMPLEMENTATION Dovecot Pigeonhole", "STARTTLS".
  std::vector<std::string> describe_capabilities() const;
  // The response as the peer sent it (strings re-quoted), for diagnostics.
  std::vector<std::string> as_peer_text() const;
};

// Reads whole responses: capability lines are collected until the status line.
class response_reader {
 public:
  void feed(std::string_view bytes) { tokens_.feed(bytes); }
  // A complete response, nullopt when more input is needed, or an error: core::errc::
  // line_too_long / buffer_limit, proto::errc::malformed_reply (syntax, unknown line, too long).
  result<std::optional<response>> next();
  // Every byte received and not consumed, including the lines of an unfinished response.
  std::string take_leftover();
  bool mid_response() const { return !partial_raw_.empty() || tokens_.buffered() > 0; }
  const std::string& detail() const { return detail_; }

 private:
  tokenizer tokens_;
  response partial_;
  std::string partial_raw_;  // bytes of the capability lines read so far
  std::size_t partial_lines_ = 0;
  std::string detail_;
};

// The status line of a response, from its tokens (first token OK/NO/BYE); nullopt if it is not
// one. Trailing bare words are accepted as text (old servers send `OK Completed`).
std::optional<response> parse_status_line(const std::vector<token>& tokens);

}  // namespace otls::proto::sieve
