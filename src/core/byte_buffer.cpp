// Bounded byte buffer with amortised O(1) consume.
#include "otls/core/byte_buffer.hpp"

#include <algorithm>

namespace otls::core {

error_code byte_buffer::append(std::string_view bytes) {
  if (bytes.size() > limit_ - size()) return errc::buffer_limit;
  // Compact before growing once the consumed prefix dominates.
  if (start_ > 0 && start_ * 2 >= data_.size()) {
    data_.erase(0, start_);
    start_ = 0;
  }
  data_.append(bytes);
  return {};
}

void byte_buffer::consume(std::size_t n) {
  start_ += n < size() ? n : size();
  if (start_ == data_.size()) {
    data_.clear();
    start_ = 0;
  }
}

bool append_bounded(std::string& buffer, std::string_view bytes, std::size_t limit) {
  const std::size_t room = limit - std::min(limit, buffer.size());
  buffer.append(bytes.substr(0, room));
  return bytes.size() <= room;
}

std::string byte_buffer::take_all() {
  std::string rest(view());
  data_.clear();
  start_ = 0;
  return rest;
}

}  // namespace otls::core
