// Bounded line reader for line-oriented protocols (SMTP RFC 5321 §2.3.8, IMAP, POP3, ...):
// every line has a maximum length, and whether a bare LF ends a line is the protocol's choice.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "otls/core/byte_buffer.hpp"
#include "otls/core/error.hpp"

namespace otls::core {

enum class line_ending {
  crlf_only,       // a LF not preceded by CR is an error (SMTP server role: smuggling defence)
  accept_bare_lf,  // LF alone also ends a line (lenient client role reading replies)
};

// Input not yet split into lines may exceed one line (pipelining), but not by more than this.
inline constexpr std::size_t line_reader_slack = 64 * 1024;

class line_reader {
 public:
  // max_line counts the line's content without its terminator.
  line_reader(std::size_t max_line, line_ending ending)
      : buffer_(max_line + line_reader_slack), max_line_(max_line), ending_(ending) {}

  // Buffers received bytes; a burst beyond max_line + line_reader_slack unread bytes fails the
  // reader with errc::buffer_limit (reported by the next next_line()).
  void feed(std::string_view bytes);

  // The next complete line without its terminator, nullopt when more input is needed, or an
  // error (line_too_long, bare_line_feed, buffer_limit). After an error the reader stays failed.
  result<std::optional<std::string>> next_line();

  // Bytes received but not yet returned as lines; empties the reader. Used at the TLS
  // upgrade point, where any such bytes are plaintext that must not cross (DESIGN.md rule 1).
  std::string take_leftover() { return buffer_.take_all(); }

  std::size_t buffered() const { return buffer_.size(); }
  std::size_t max_line() const { return max_line_; }

 private:
  byte_buffer buffer_;
  std::size_t max_line_;
  line_ending ending_;
  error_code failed_;
};

}  // namespace otls::core
