// Bounded line reader: CRLF framing with a per-protocol length limit and bare-LF policy.
#include "otls/core/line_reader.hpp"

namespace otls::core {

void line_reader::feed(std::string_view bytes) {
  if (failed_ || !buffer_.append(bytes)) return;
  // Over the limit: name the cause, one overlong line or a burst of unread lines.
  const std::string_view pending = buffer_.view();
  const std::size_t reach = max_line_ + 2;  // content, CR, LF
  const bool line_ends_in_reach =
      pending.substr(0, reach).find('\n') != std::string_view::npos ||
      (pending.size() < reach &&
       bytes.substr(0, reach - pending.size()).find('\n') != std::string_view::npos);
  failed_ = line_ends_in_reach ? errc::buffer_limit : errc::line_too_long;
}

result<std::optional<std::string>> line_reader::next_line() {
  if (failed_) return failed_;
  const std::string_view pending = buffer_.view();
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
  buffer_.consume(lf + 1);
  return std::optional<std::string>{std::move(line)};
}

}  // namespace otls::core
