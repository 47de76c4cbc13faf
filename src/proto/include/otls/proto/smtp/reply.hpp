// SMTP reply and command syntax (RFC 5321 §4.1, §4.2) and EHLO keywords (RFC 5321 §4.1.1.1),
// parsed from a bounded line reader so every line and every reply has a size limit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "otls/core/error.hpp"
#include "otls/core/line_reader.hpp"

namespace otls::proto::smtp {

// RFC 5321 §4.5.3.1.5 sets 512 octets per reply line; real servers exceed it with long AUTH
// and SIZE lists, so the client accepts up to 4096 and at most 256 lines per reply.
inline constexpr std::size_t max_reply_line = 4096;
inline constexpr std::size_t max_reply_lines = 256;
// RFC 5321 §4.5.3.1.4: 512 octets per command line including CRLF; Postfix accepts 2048.
inline constexpr std::size_t max_command_line = 2048;

enum class variant { smtp, lmtp };  // LMTP says LHLO and has no HELO (RFC 2033 §4.1)

struct reply {
  int code = 0;                    // 200..599
  std::vector<std::string> lines;  // text after "NNN-" / "NNN " (may be empty)

  int klass() const { return code / 100; }
  // The reply as the peer sent it, for diagnostics: "454 4.7.0 TLS not available".
  std::vector<std::string> as_peer_text() const;
};

// Reassembles multi-line replies: "250-first", "250-second", "250 last". Bare LF is accepted
// (some servers send it; a client gains nothing by refusing), CR alone is not a terminator.
class reply_reader {
 public:
  reply_reader() : lines_(max_reply_line, core::line_ending::accept_bare_lf) {}

  void feed(std::string_view bytes) { lines_.feed(bytes); }
  // A complete reply, nullopt when more input is needed, or an error: core::errc::line_too_long,
  // proto::errc::malformed_reply (bad code, mixed codes, too many lines).
  result<std::optional<reply>> next();
  std::string take_leftover();
  std::size_t buffered() const { return lines_.buffered(); }

 private:
  core::line_reader lines_;
  reply partial_;
};

// EHLO response: first line is the server's domain and greeting, the rest are keywords.
struct ehlo_capabilities {
  std::string greeting;                 // first line's text
  std::vector<std::string> extensions;  // "STARTTLS", "SIZE 35882577", "AUTH PLAIN LOGIN"

  static ehlo_capabilities from_reply(const reply& r);
  bool has(std::string_view keyword) const;  // case-insensitive keyword match
  std::optional<std::string> params(std::string_view keyword) const;
  std::optional<std::uint64_t> size_limit() const;
  std::vector<std::string> auth_mechanisms() const;  // AUTH and legacy "AUTH=" lines, deduped
};

struct command {
  std::string verb;  // upper-cased: "EHLO", "MAIL", ...
  std::string args;  // after the first space, as sent
};

// Splits a command line; verbs are letters only, case-insensitive (RFC 5321 §2.4).
std::optional<command> parse_command(std::string_view line);

}  // namespace otls::proto::smtp
