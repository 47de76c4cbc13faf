// Bounded line reader for line-oriented protocols (SMTP RFC 5321 §2.3.8, IMAP, POP3, ...):
// every line has a maximum length, and whether a bare LF ends a line is the protocol's choice.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "otls/core/error.hpp"

namespace otls::core {

enum class line_ending {
  crlf_only,       // a LF not preceded by CR is an error (SMTP server role: smuggling defence)
  accept_bare_lf,  // LF alone also ends a line (lenient client role reading replies)
};

class line_reader {
 public:
  // max_line counts the line's content without its terminator.
  line_reader(std::size_t max_line, line_ending ending) : max_line_(max_line), ending_(ending) {}

  void feed(std::string_view bytes) { buffer_.append(bytes); }

  // The next complete line without its terminator, nullopt when more input is needed,
  // or an error (line_too_long, bare_line_feed). After an error the reader stays failed.
  result<std::optional<std::string>> next_line();

  // Bytes received but not yet returned as lines; empties the reader. Used at the TLS
  // upgrade point, where any such bytes are plaintext that must not cross (DESIGN.md rule 1).
  std::string take_leftover();

  std::size_t buffered() const { return buffer_.size() - consumed_; }
  std::size_t max_line() const { return max_line_; }

 private:
  std::string buffer_;
  std::size_t consumed_ = 0;
  std::size_t max_line_;
  line_ending ending_;
  error_code failed_;
};

}  // namespace otls::core
