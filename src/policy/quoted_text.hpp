// Private to the policy layer: peer or file text quoted for human-readable details.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace otls::policy::detail {

// Quoted, control and non-ASCII bytes escaped as \xNN, long text cut, so that a hostile record
// or file can neither forge log lines nor flood them.
inline std::string quoted_text(std::string_view text) {
  constexpr std::size_t shown = 64;
  static constexpr char hex[] = "0123456789abcdef";
  std::string out = "\"";
  for (std::size_t i = 0; i < text.size() && i < shown; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (text.size() > shown) out += "...";
  out += '"';
  return out;
}

}  // namespace otls::policy::detail
