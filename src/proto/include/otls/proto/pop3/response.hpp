// POP3 status lines and multi-line responses (RFC 1939 §3), CAPA lists (RFC 2449 §5) and command
// syntax (RFC 1939 §3, RFC 2449 §4), read through a bounded line reader.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "otls/core/error.hpp"
#include "otls/core/line_reader.hpp"

namespace otls::proto::pop3 {

// RFC 2449 §4 allows 512 octets for a response's first line; CAPA and SASL lines of real servers
// stay far below, so 4096 is lenient and still small. A multi-line body has at most 256 lines.
inline constexpr std::size_t max_response_line = 4096;
inline constexpr std::size_t max_multiline_lines = 256;
// RFC 2449 §4 raises commands to 255 octets; AUTH initial responses (RFC 5034 §4) can be longer,
// so the server role accepts up to 1024.
inline constexpr std::size_t max_command_line = 1024;

struct response {
  bool ok = false;                 // "+OK" or "-ERR"
  std::string text;                // after the status indicator and one space
  std::vector<std::string> lines;  // multi-line body, dot-unstuffed, without the "." line

  // The response as the peer sent it (first line and body), for diagnostics.
  std::vector<std::string> as_peer_text() const;
};

// "+OK [text]" or "-ERR [text]" (RFC 1939 §3). Indicators are upper case in the RFC; other case
// is accepted. Anything else, including "+OKAY", is not a status line.
std::optional<response> parse_status(std::string_view line);

// Reads one response at a time. The caller says whether a +OK opens a multi-line body (CAPA)
// because POP3 framing depends on the command, not on the response (RFC 1939 §3).
class response_reader {
 public:
  // Bare LF ends a line too: a client gains nothing by refusing it.
  response_reader() : lines_(max_response_line, core::line_ending::accept_bare_lf) {}

  void feed(std::string_view bytes) { lines_.feed(bytes); }
  // A complete response, nullopt when more input is needed, or an error: core::errc::
  // line_too_long / buffer_limit, proto::errc::malformed_reply (not a status line, too many lines).
  result<std::optional<response>> next(bool multiline);
  // Every byte received and not consumed, including the lines of an unfinished multi-line
  // response (re-stuffed, CRLF-terminated). Empties the reader.
  std::string take_leftover();
  // Bytes or lines held that belong to an unfinished response.
  bool mid_response() const { return partial_.has_value() || lines_.buffered() > 0; }

 private:
  core::line_reader lines_;
  std::optional<response> partial_;  // status seen, body in progress
};

// CAPA lines (RFC 2449 §5): keyword upper-cased (keywords are case-insensitive), arguments as
// sent, trailing spaces and empty lines dropped: "STLS", "SASL PLAIN", "USER", "TOP".
struct capabilities {
  std::vector<std::string> lines;

  static capabilities from_response(const response& r);
  bool has(std::string_view keyword) const;
};

struct command {
  std::string verb;  // upper-cased keyword: "USER", "STLS", ...
  std::string args;  // after the first space, as sent
};

// Splits a command line: a keyword of letters (RFC 1939 §3: case-insensitive, 3-4 characters;
// extensions may be longer), optionally followed by one space and arguments.
std::optional<command> parse_command(std::string_view line);

}  // namespace otls::proto::pop3
