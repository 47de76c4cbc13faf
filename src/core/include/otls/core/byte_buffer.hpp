// A bounded byte buffer for parsers that read ahead (lines, BER, XML): appends past the limit
// fail instead of growing, so a peer cannot make us hold unbounded input (DESIGN.md rule 5).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "otls/core/error.hpp"

namespace otls::core {

class byte_buffer {
 public:
  explicit byte_buffer(std::size_t limit) : limit_(limit) {}

  // Appends, or fails with errc::buffer_limit (leaving the buffer unchanged).
  error_code append(std::string_view bytes);
  std::string_view view() const { return std::string_view(data_).substr(start_); }
  std::size_t size() const { return data_.size() - start_; }
  bool empty() const { return size() == 0; }
  std::size_t limit() const { return limit_; }
  // Drops the first n unread bytes (n <= size()).
  void consume(std::size_t n);
  // Every unread byte; empties the buffer.
  std::string take_all();

 private:
  std::string data_;
  std::size_t start_ = 0;  // bytes before this were consumed; compacted lazily
  std::size_t limit_;
};

// For dialects that keep raw bytes in a std::string (binary protocols): appends the part of
// `bytes` that keeps `buffer` within `limit`; false when some of it was dropped.
bool append_bounded(std::string& buffer, std::string_view bytes, std::size_t limit);

}  // namespace otls::core
