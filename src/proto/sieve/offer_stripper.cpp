// STRIPTLS for ManageSieve (RFC 5804 §1.7, §2.2): what an active attacker on port 4190 does, and
// why a client that needs TLS must fail when the capability list lacks STARTTLS.
#include "otls/proto/sieve/offer_stripper.hpp"

#include <algorithm>
#include <cctype>
#include <utility>

#include "otls/proto/sieve/syntax.hpp"

namespace otls::proto::sieve {
namespace {

std::string_view trimmed(std::string_view line) {
  while (!line.empty() &&
         (line.back() == '\n' || line.back() == '\r' || line.back() == ' ' || line.back() == '\t'))
    line.remove_suffix(1);
  return line;
}

// "STARTTLS" in any case, followed by nothing or a space (a value, which RFC 5804 gives none).
bool names_starttls(std::string_view s) {
  constexpr std::string_view want = "STARTTLS";
  if (s.size() < want.size() || (s.size() > want.size() && s[want.size()] != ' ')) return false;
  return std::equal(want.begin(), want.end(), s.begin(), [](char w, char c) {
    return std::toupper(static_cast<unsigned char>(c)) == w;
  });
}

// The capability line `"STARTTLS"` (quoted name).
bool offers_starttls(std::string_view line) {
  line = trimmed(line);
  if (line.size() < 10 || line.front() != '"' || line[9] != '"') return false;
  return names_starttls(line.substr(1, 8)) && (line.size() == 10 || line[10] == ' ');
}

// "{8}" or "{8+}": the header of a literal that could carry the name STARTTLS.
bool literal_of_eight(std::string_view line) {
  line = trimmed(line);
  return line == "{8}" || line == "{8+}";
}

}  // namespace

std::string offer_stripper::from_server(std::string_view bytes) {
  if (passthrough_) return std::string(bytes);
  pending_.append(bytes);
  std::string out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t lf = pending_.find('\n', start);
    if (lf == std::string::npos) break;
    const std::string_view line(pending_.data() + start, lf - start + 1);
    start = lf + 1;
    // Lines are forwarded byte for byte with their own terminator; only the offer disappears.
    if (!held_header_.empty()) {
      if (names_starttls(trimmed(line))) {
        ++removed_;
      } else {
        out += held_header_;
        out += line;
      }
      held_header_.clear();
      continue;
    }
    if (literal_of_eight(line)) {
      held_header_ = line;
    } else if (offers_starttls(line)) {
      ++removed_;
    } else {
      out += line;
    }
  }
  pending_.erase(0, start);
  if (pending_.size() > max_line + 1) {
    passthrough_ = true;
    out += std::exchange(held_header_, {});
    out += std::exchange(pending_, {});
  }
  return out;
}

}  // namespace otls::proto::sieve
