// NNTP response and command syntax (RFC 3977 §3.1-3.2): status lines, dot-terminated multi-line
// data blocks with dot-unstuffing, CAPABILITIES lists (§5.2), all read with size limits.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "otls/core/error.hpp"
#include "otls/core/line_reader.hpp"
#include "otls/core/text.hpp"

namespace otls::proto::nntp {

// RFC 3977 §3.1 caps an initial response line at 512 octets; data block lines have no fixed
// limit. Real capability lists stay far below either, so 4096 per line is lenient and safe.
inline constexpr std::size_t max_response_line = 4096;
// Lines of one data block (INN's CAPABILITIES has 13, its HELP 31).
inline constexpr std::size_t max_block_lines = 256;
// RFC 3977 §3.1: 512 octets per command line including CRLF; INN's nnrpd accepts the same.
// AUTHINFO SASL may exceed it (RFC 4643 §2.4), but the server role offers no SASL.
inline constexpr std::size_t max_command_line = 510;

struct response {
  int code = 0;                    // 100..599
  std::string text;                // after "NNN " (may be empty)
  bool multi_line = false;         // a data block followed the status line
  std::vector<std::string> block;  // the block's lines, dot-unstuffed, without the final "."

  int klass() const { return code / 100; }
  // The response as the peer sent it, for diagnostics: "580 Can not initiate TLS negotiation".
  std::vector<std::string> as_peer_text() const;
};

// Reads responses from a bounded line reader. Whether a data block follows a status line
// depends on the command (RFC 3977 §3.1.1: 101 to CAPABILITIES, 100 to HELP, ...), so the
// caller names the code that carries one. Bare LF ends a line too (lenient client role).
class response_reader {
 public:
  response_reader() : lines_(max_response_line, core::line_ending::accept_bare_lf) {}

  void feed(std::string_view bytes) { lines_.feed(bytes); }
  // A complete response, nullopt when more input is needed, or an error: core::errc::
  // line_too_long / buffer_limit, proto::errc::malformed_reply (bad status line, too many
  // block lines). A status line with code `block_code` (0: none) is followed by a data block.
  result<std::optional<response>> next(int block_code = 0);
  // Every byte received and not returned as a complete response (an unfinished block's lines
  // are re-encoded with CRLF and dot-stuffing); empties the reader.
  std::string take_leftover();
  // Part of a response has arrived (an unfinished line or data block).
  bool mid_response() const { return in_block_ || lines_.buffered() > 0; }

 private:
  core::line_reader lines_;
  response partial_;
  bool in_block_ = false;
};

// Parses "NNN text" (RFC 3977 §3.2: three digits, the first 1-5, then SP or the end).
std::optional<response> parse_status_line(std::string_view line);

// A CAPABILITIES list (RFC 3977 §5.2, §3.3): one capability per line, a label and arguments
// separated by whitespace. Labels are case-insensitive: kept upper-cased, arguments as sent.
struct capability_list {
  std::vector<std::string> lines;  // "VERSION 2", "READER", "STARTTLS", "AUTHINFO USER"

  static capability_list from_block(const std::vector<std::string>& block);
  bool has(std::string_view label) const;
  // Arguments after the label ("USER SASL" for "AUTHINFO USER SASL"); nullopt if absent.
  std::optional<std::string> arguments(std::string_view label) const;
};

// The label of a capability line or a response text's first word, e.g. "STARTTLS".
using core::first_word;

struct command {
  std::string verb;  // upper-cased: "CAPABILITIES", "MODE", ...
  std::string args;  // after the verb's whitespace, trailing whitespace trimmed
};

// Splits a command line (RFC 3977 §3.1: a case-insensitive keyword, then arguments separated
// by SP or TAB). nullopt for an empty line or a keyword with control or non-ASCII bytes.
std::optional<command> parse_command(std::string_view line);

using core::iequals;

}  // namespace otls::proto::nntp
