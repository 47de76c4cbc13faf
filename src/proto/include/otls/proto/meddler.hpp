// Interface of a STRIPTLS meddler's rewriting step, used by the demo lab and tests to show
// what an active attacker on the plaintext start can do (RFC 3207 §6, RFC 7672 §1.3).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "otls/core/line_reader.hpp"

namespace otls::proto {

class offer_stripper {
 public:
  virtual ~offer_stripper() = default;
  // Server-to-client bytes in; what the attacker forwards out (possibly held back for
  // framing until a reply is complete).
  virtual std::string from_server(std::string_view bytes) = 0;
  // How many upgrade offers were removed so far.
  virtual unsigned offers_removed() const = 0;
};

// The framing of rewriters that forward lines byte for byte, their own terminators kept (POP3,
// IRC): every complete line of `pending`, LF included, goes to on_line(line), which returns
// false after the go-ahead (TLS bytes follow). What is not handed over stays in `pending`.
// False when the caller should stop meddling: after the go-ahead, or when the unfinished rest
// exceeds max_line (not line-shaped).
template <class OnLine>
bool for_each_complete_line(std::string& pending, std::size_t max_line, OnLine&& on_line) {
  std::size_t start = 0;
  bool go_on = true;
  for (std::size_t lf; go_on && (lf = pending.find('\n', start)) != std::string::npos;
       start = lf + 1)
    go_on = on_line(std::string_view(pending).substr(start, lf + 1 - start));
  pending.erase(0, start);
  return go_on && pending.size() <= max_line + 1;
}

// The framing shared by rewriters of line-based protocols whose lines can be judged one by one
// (NNTP, FTP): each complete line goes to rewrite(); input that is not line-shaped (an
// over-long line) ends the meddling, and so does the go-ahead, after which TLS bytes follow.
class line_offer_stripper : public offer_stripper {
 public:
  std::string from_server(std::string_view bytes) final;
  unsigned offers_removed() const final { return removed_; }

 protected:
  explicit line_offer_stripper(std::size_t max_line)
      : lines_(max_line, core::line_ending::accept_bare_lf) {}

  enum class then { read_on, pass_through };
  // Appends to `out` what the attacker forwards for `line` (CRLF-terminated, or nothing) and
  // says whether everything after it passes untouched.
  virtual then rewrite(const std::string& line, std::string& out) = 0;

  unsigned removed_ = 0;

 private:
  core::line_reader lines_;
  bool passthrough_ = false;
};

}  // namespace otls::proto
