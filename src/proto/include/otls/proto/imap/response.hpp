// IMAP framing and response syntax (RFC 9051 §2.2, §4.3, §7, §9; RFC 3501 likewise): lines with
// literals ({n}, LITERAL+ {n+}, RFC 7888), tagged/untagged/continuation responses, response
// codes and CAPABILITY lists, plus command splitting for the server role. Every line, literal
// and response has a size limit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "otls/core/byte_buffer.hpp"
#include "otls/core/error.hpp"
#include "otls/core/line_reader.hpp"

namespace otls::proto::imap {

// Limits on one frame (a response or a command: its lines and the literals between them).
struct frame_limits {
  std::size_t max_line;     // one line, without its terminator
  std::size_t max_literal;  // one literal's announced size
  std::size_t max_frame;    // every line, terminator and literal octet of one frame
};

// Client role: RFC 7162 §4 asks clients to accept lines of 8192 octets; a probe reads greetings
// and CAPABILITY data, never messages, so 64 KiB per literal and 128 KiB per response suffice.
inline constexpr frame_limits response_limits{8192, 64 * 1024, 128 * 1024};
// Server role: 8192-octet command lines (RFC 7162 §4); literals up to 4096 octets, the LITERAL-
// bound (RFC 7888 §5), which the demo server advertises. Credentials fit easily.
inline constexpr frame_limits command_limits{8192, 4096, 16 * 1024};

// One response or command as received. `text` joins its lines, each literal left as its
// "{n}" marker, e.g. "* 1 FETCH (BODY[] {5})"; the literal octets are in `literals`.
struct frame {
  std::string text;
  std::vector<std::string> literals;
  std::string raw;  // the frame exactly as received, terminators and literals included
};

// The header of a literal whose octets have not all arrived yet.
struct literal_header {
  std::uint64_t size = 0;
  bool synchronizing = true;  // "{n}": a client waits for "+" first; "{n+}" does not (RFC 7888)
  std::size_t index = 0;      // position of this literal in its frame
};

// Splits input into frames. A line ending in "{n}" or "{n+}" (also "~{n}", RFC 3516 literal8)
// is followed by exactly n octets, then the frame continues with another line (RFC 9051 §4.3).
// Bytes of a partial frame stay buffered until the frame is complete, so take_leftover()
// returns every byte received and not yet returned as a frame, exactly as received.
class frame_reader {
 public:
  frame_reader(frame_limits limits, core::line_ending ending);

  // Buffers bytes; more than max_frame plus core::line_reader_slack unread bytes fail the
  // reader (reported by the next next()).
  void feed(std::string_view bytes);
  // A complete frame, nullopt when more input is needed, or an error: core::errc::line_too_long,
  // core::errc::bare_line_feed (crlf_only), core::errc::buffer_limit (a literal or frame over
  // its limit, or too much unread input). After an error the reader stays failed.
  result<std::optional<frame>> next();
  // While next() waits for a literal's octets: its header.
  std::optional<literal_header> awaiting_literal() const;
  // The text of the partial frame parsed so far (lines up to the pending literal).
  std::string_view partial_text() const { return partial_.text; }
  // Every unread byte, including a partial frame; resets the reader to a fresh state.
  std::string take_leftover();
  // Unread bytes, including those of a partial frame.
  std::string_view pending() const { return buffer_.view(); }
  std::size_t buffered() const { return buffer_.size(); }
  bool failed() const { return static_cast<bool>(failed_); }

 private:
  error_code fail(core::errc e) { return failed_ = e; }

  core::byte_buffer buffer_;
  frame_limits limits_;
  core::line_ending ending_;
  std::size_t scan_ = 0;        // bytes of buffer_.view() already parsed into partial_
  std::size_t frame_size_ = 0;  // octets counted against max_frame so far
  std::optional<literal_header> literal_;
  frame partial_;
  error_code failed_;
};

// Finds a literal marker at the end of a line: "{n}", "{n+}" (nullopt when there is none).
// Sizes that do not fit 64 bits come back as UINT64_MAX, over any limit.
std::optional<literal_header> literal_at_end(std::string_view line);

struct response {
  enum class kind { tagged, untagged, continuation };
  kind type = kind::untagged;
  std::string tag;      // tagged responses: as sent
  std::string keyword;  // upper-cased: OK NO BAD PREAUTH BYE, or CAPABILITY, EXISTS, FETCH, ...
  std::string code;     // status responses: resp-text-code without brackets, as sent
  std::string text;     // status/continuation text after the code; data after the keyword
  std::string line;     // the whole response (frame text), for diagnostics
  std::vector<std::string> literals;

  // OK, NO, BAD, PREAUTH or BYE (RFC 9051 §7.1).
  bool is_status() const;
  // The response code's name, upper-cased: "CAPABILITY" for "[CAPABILITY IMAP4rev1 ...]".
  std::string code_name() const;
  std::vector<std::string> as_peer_text() const { return {line}; }
};

// Parses a frame as a server response: "tag SP (OK|NO|BAD) SP resp-text", "* ...", "+ ...".
// Keywords are case-insensitive, runs of spaces are tolerated. Error: malformed_reply.
result<response> parse_response(frame f);

// The capability list of an untagged CAPABILITY response or a [CAPABILITY ...] response code
// (RFC 9051 §7.2.2, §7.1), tokens as sent; nullopt when the response carries none.
std::optional<std::vector<std::string>> capabilities_of(const response& r);
// Case-insensitive membership: "STARTTLS", "LOGINDISABLED", "AUTH=PLAIN".
bool has_capability(const std::vector<std::string>& caps, std::string_view name);

// tag = 1*<any ASTRING-CHAR except "+"> (RFC 9051 §9).
bool valid_tag(std::string_view tag);

struct command {
  std::string tag;   // as sent
  std::string name;  // upper-cased; empty when the line has a tag but no command
  std::string args;  // after the name and its space, literal markers included
  std::vector<std::string> literals;
};

// Splits a client command frame: "tag SP name [SP args]"; nullopt when there is no valid tag.
std::optional<command> parse_command(const frame& f);

}  // namespace otls::proto::imap
