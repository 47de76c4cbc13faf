// Terminal styling: colours only on a TTY and never when NO_COLOR is set (no-color.org).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <unistd.h>

namespace otls::app {

inline bool colour_enabled(std::FILE* stream) {
  const char* no_colour = std::getenv("NO_COLOR");
  if (no_colour && *no_colour) return false;
  return isatty(fileno(stream)) == 1;
}

// Peer-supplied text made safe for a terminal: C0 controls, DEL and ESC become \xNN, so a
// hostile banner or certificate name cannot move the cursor or recolour the screen.
inline std::string printable(std::string_view text) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (const unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += digits[c >> 4];
      out += digits[c & 0x0f];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

enum class tone { plain, good, warn, bad, dim, bold };

inline std::string styled(std::string_view text, tone t, bool colour) {
  if (!colour || t == tone::plain) return std::string(text);
  const char* code = t == tone::good   ? "32"
                     : t == tone::warn ? "33"
                     : t == tone::bad  ? "31"
                     : t == tone::dim  ? "2"
                                       : "1";
  return "\x1b[" + std::string(code) + "m" + std::string(text) + "\x1b[0m";
}

}  // namespace otls::app
