// Bounded line reader: CRLF framing with a per-protocol length limit and bare-LF policy.
#include "otls/core/line_reader.hpp"

namespace otls::core {

result<std::optional<std::string>> line_reader::next_line() {
  if (failed_) return failed_;
  const std::string_view pending = std::string_view(buffer_).substr(consumed_);
  const std::size_t lf = pending.find('\n');
  if (lf == std::string_view::npos) {
    // +1 leaves room for a CR whose LF has not arrived yet.
    if (pending.size() > max_line_ + 1) return failed_ = errc::line_too_long;
    return std::optional<std::string>{};
  }
  std::size_t content = lf;
  if (content > 0 && pending[content - 1] == '\r') {
    --content;
  } else if (ending_ == line_ending::crlf_only) {
    return failed_ = errc::bare_line_feed;
  }
  if (content > max_line_) return failed_ = errc::line_too_long;
  std::string line(pending.substr(0, content));
  consumed_ += lf + 1;
  // Compact once the consumed prefix dominates, keeping appends amortised O(1).
  if (consumed_ > 4096 && consumed_ * 2 > buffer_.size()) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  return std::optional<std::string>{std::move(line)};
}

std::string line_reader::take_leftover() {
  std::string rest = buffer_.substr(consumed_);
  buffer_.clear();
  consumed_ = 0;
  return rest;
}

}  // namespace otls::core
