// Target URL parsing (RFC 3986 authority subset) with clear errors for bad input.
#include "otls/core/url.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace otls::core {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool is_ldh_label(std::string_view label) {
  if (label.empty() || label.size() > 63) return false;
  if (label.front() == '-' || label.back() == '-') return false;
  return std::all_of(label.begin(), label.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '_';  // '_' appears in SRV/TLSA-style names
  });
}

}  // namespace

std::string url::host_for_display() const {
  return kind == host_kind::ipv6 ? "[" + host + "]" : host;
}

result<host_kind> classify_host(std::string_view host) {
  const std::string h(host);
  unsigned char scratch[16];
  if (inet_pton(AF_INET6, h.c_str(), scratch) == 1) return host_kind::ipv6;
  if (inet_pton(AF_INET, h.c_str(), scratch) == 1) return host_kind::ipv4;
  if (host.empty() || host.size() > 253) return errc::bad_host;
  std::size_t start = 0;
  bool all_numeric_labels = true;
  while (start <= host.size()) {
    const std::size_t dot = std::min(host.find('.', start), host.size());
    const std::string_view label = host.substr(start, dot - start);
    if (!is_ldh_label(label)) return errc::bad_host;
    all_numeric_labels &=
        std::all_of(label.begin(), label.end(), [](unsigned char c) { return std::isdigit(c); });
    start = dot + 1;
  }
  // "1.2.3" or "999.1.1.1" are neither valid IPv4 nor sensible names.
  if (all_numeric_labels) return errc::bad_host;
  return host_kind::dns_name;
}

result<url> parse_url(std::string_view text) {
  const std::size_t sep = text.find("://");
  if (sep == std::string_view::npos || sep == 0) return errc::bad_url;
  url out;
  out.scheme = lower(text.substr(0, sep));
  if (!std::all_of(out.scheme.begin(), out.scheme.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '+' || c == '-' || c == '.';
      }))
    return errc::bad_url;

  std::string_view rest = text.substr(sep + 3);
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find_first_of("/?#@") != std::string_view::npos) return errc::bad_url;

  std::string_view host;
  std::string_view port;
  if (!rest.empty() && rest.front() == '[') {
    const std::size_t close = rest.find(']');
    if (close == std::string_view::npos) return errc::bad_host;
    host = rest.substr(1, close - 1);
    const std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return errc::bad_url;
      port = after.substr(1);
      if (port.empty()) return errc::bad_port;
    }
    auto kind = classify_host(host);
    if (!kind || *kind != host_kind::ipv6) return errc::bad_host;
    out.kind = host_kind::ipv6;
    out.host = lower(host);
  } else {
    const std::size_t colon = rest.find(':');
    host = rest.substr(0, colon);
    if (colon != std::string_view::npos) {
      port = rest.substr(colon + 1);
      if (port.empty()) return errc::bad_port;
    }
    if (!host.empty() && host.back() == '.') host.remove_suffix(1);
    auto kind = classify_host(host);
    if (!kind || *kind == host_kind::ipv6) return errc::bad_host;
    out.kind = *kind;
    out.host = lower(host);
  }

  if (!port.empty()) {
    unsigned value = 0;
    const auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc{} || ptr != port.data() + port.size() || value == 0 || value > 65535)
      return errc::bad_port;
    out.port = static_cast<std::uint16_t>(value);
  }
  return out;
}

}  // namespace otls::core
