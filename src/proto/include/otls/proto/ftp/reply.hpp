// FTP reply and command syntax (RFC 959 §4.2, §5.3): single- and multi-line replies read with
// size limits, FEAT lists (RFC 2389 §3), EPSV (RFC 2428 §3) and PASV (RFC 959 §4.1.2) answers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "otls/core/error.hpp"
#include "otls/core/line_reader.hpp"
#include "otls/core/text.hpp"

namespace otls::proto::ftp {

// RFC 959 sets no line limit; real servers' replies stay far below this.
inline constexpr std::size_t max_reply_line = 4096;
// Lines of one multi-line reply (ProFTPD's FEAT has about 20, its HELP about 10).
inline constexpr std::size_t max_reply_lines = 256;
// Command lines (the server role): pathnames make these longer than SMTP's; 1024 is ProFTPD's
// own limit (PR_TUNABLE_BUFFER_SIZE).
inline constexpr std::size_t max_command_line = 1024;

struct reply {
  int code = 0;                    // 100..559
  std::vector<std::string> lines;  // as received: "211-Features:", " AUTH TLS", "211 End"

  int klass() const { return code / 100; }
  // The first line's text, after "NNN " or "NNN-".
  std::string text() const;
  std::vector<std::string> as_peer_text() const { return lines; }
};

// Reads replies from a bounded line reader. A multi-line reply starts "NNN-" and ends at the
// first line "NNN " (or exactly "NNN") with the same code; lines between are free text
// (RFC 959 §4.2). Bare LF ends a line too (lenient client role).
class reply_reader {
 public:
  reply_reader() : lines_(max_reply_line, core::line_ending::accept_bare_lf) {}

  void feed(std::string_view bytes) { lines_.feed(bytes); }
  // A complete reply, nullopt when more input is needed, or an error: core::errc::
  // line_too_long / buffer_limit, proto::errc::malformed_reply (no reply code, too many lines).
  result<std::optional<reply>> next();
  // Every byte received and not returned as a complete reply (an unfinished reply's lines,
  // re-terminated with CRLF); empties the reader.
  std::string take_leftover();
  bool mid_reply() const { return partial_.has_value() || lines_.buffered() > 0; }

 private:
  core::line_reader lines_;
  std::optional<reply> partial_;
};

// The reply code of a reply's first line: three digits (the first 1-5), then SP, "-" or the end.
std::optional<int> reply_code(std::string_view line);

// A FEAT list (RFC 2389 §3.2): the lines between the first and the last, one feature each.
// Labels are case-insensitive: kept upper-cased, arguments as sent.
struct feature_list {
  std::vector<std::string> lines;  // "AUTH TLS", "PBSZ", "PROT", "EPSV", "UTF8"

  static feature_list from_reply(const reply& r);
  bool has(std::string_view label) const;
  // Arguments after the label ("TLS" for "AUTH TLS"); nullopt if absent.
  std::optional<std::string> arguments(std::string_view label) const;
  // AUTH lists TLS among its mechanisms ("AUTH TLS", "AUTH SSL;TLS", "AUTH TLS-C TLS").
  bool offers_auth_tls() const;
};

// The port of "229 Entering Extended Passive Mode (|||6446|)" (RFC 2428 §3: any printable
// delimiter, the network and address fields empty).
std::optional<std::uint16_t> parse_epsv(std::string_view text);

// The address and port of "227 Entering Passive Mode (h1,h2,h3,h4,p1,p2)"; the parentheses
// are optional in practice, so the first six comma-separated numbers count.
struct passive_address {
  std::string host;  // dotted quad, as advertised
  std::uint16_t port = 0;
};
std::optional<passive_address> parse_pasv(std::string_view text);

struct command {
  std::string verb;  // upper-cased: "AUTH", "PBSZ", ...
  std::string args;  // after the verb's space, trailing blanks trimmed
};

// Splits a command line (RFC 959 §5.3: a keyword of letters, then SP and arguments). nullopt
// for an empty line or a keyword that is not 1-8 ASCII letters.
std::optional<command> parse_command(std::string_view line);

}  // namespace otls::proto::ftp
