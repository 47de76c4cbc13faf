// IRC messages (RFC 1459 §2.3, RFC 2812 §2.3, IRCv3 message-tags) and the IRCv3 capability
// lists of CAP LS (IRCv3 capability negotiation 3.2, `tls` and `sts` values), read through a
// bounded line reader.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "otls/core/error.hpp"
#include "otls/core/line_reader.hpp"

namespace otls::proto::irc {

// RFC 1459 §2.3 allows 512 octets per message, CRLF included; IRCv3 message-tags adds up to 8191
// octets of tags ("@...", its space included) in front of it.
inline constexpr std::size_t max_body_line = 510;
inline constexpr std::size_t max_tags = 8191;
inline constexpr std::size_t max_line = max_tags + max_body_line;
// A CAP LS reply split over more lines than this (IRCv3 3.2 "CAP * LS * :...") is not a
// capability list but a flood.
inline constexpr std::size_t max_cap_ls_lines = 64;

struct message {
  std::string tags;                 // after "@", before the space; raw (unescaped)
  std::string prefix;               // after ":", before the space: server or nick!user@host
  std::string command;              // upper-cased word or three-digit numeric
  std::vector<std::string> params;  // the trailing parameter (":...") is the last one
  std::string raw;                  // the line as received, for diagnostics

  bool is_numeric() const { return command.size() == 3 && numeric() >= 0; }
  // The numeric reply code (RFC 2812 §5), -1 for a command word.
  int numeric() const;
  // The last parameter (the text of NOTICEs, numerics and ERROR), empty when there is none.
  std::string_view last_param() const;
  std::vector<std::string> as_peer_text() const { return {raw}; }
};

// Parses one line without its terminator. nullopt: no command (empty, only tags or a prefix, a
// command that is neither letters nor three digits, or more than 15 parameters, RFC 2812 §2.3).
std::optional<message> parse_message(std::string_view line);

// Reads messages one at a time. Empty lines are skipped (RFC 2812 §2.3.1: silently ignored).
class message_reader {
 public:
  // A bare LF ends a line too: many servers and hand-typed clients send it.
  message_reader() : lines_(max_line, core::line_ending::accept_bare_lf) {}

  void feed(std::string_view bytes) { lines_.feed(bytes); }
  // The next message, nullopt when more input is needed, or an error: core::errc::line_too_long
  // / buffer_limit, proto::errc::malformed_reply (a line that is not an IRC message).
  result<std::optional<message>> next();
  // Every byte received and not consumed. Empties the reader.
  std::string take_leftover() { return lines_.take_leftover(); }
  bool mid_message() const { return lines_.buffered() > 0; }

 private:
  core::line_reader lines_;
};

// One capability of a CAP LS list: "tls", "sts=port=6697,duration=300" (name and value split).
struct capability {
  std::string name;   // as sent (IRCv3 names are case-sensitive)
  std::string value;  // after the first "=", empty when there is none
  std::string as_text() const { return value.empty() ? name : name + "=" + value; }
};

// The space-separated capability list of one CAP LS line (empty tokens dropped).
std::vector<capability> parse_capabilities(std::string_view list);

// The IRCv3 `sts` policy's keys ("port=6697,duration=2592000,preload"); absent keys stay unset.
struct sts_policy {
  std::optional<unsigned> port;
  std::optional<unsigned long> duration;
  bool preload = false;
};
sts_policy parse_sts(std::string_view value);

// The parts of a CAP reply: "CAP <target> <subcommand> [*] :<list>" (IRCv3 3.2; "*" marks a
// continued multi-line LS/LIST reply).
struct cap_reply {
  std::string subcommand;  // upper-cased: "LS", "ACK", "NAK", "NEW", ...
  bool more = false;       // "*": more lines of this reply follow
  std::string list;        // the capability list of this line
};
std::optional<cap_reply> parse_cap_reply(const message& m);

}  // namespace otls::proto::irc
