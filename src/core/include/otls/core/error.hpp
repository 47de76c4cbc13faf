// Error model shared by every layer: one errc + category per layer, result<T>,
// and a diagnostics object that keeps the peer's own words (DESIGN.md "Errors").
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

namespace otls {

using error_code = boost::system::error_code;
template <class T>
using result = boost::system::result<T, error_code>;

// What went wrong in the peer's own words plus our one-line explanation.
struct diagnostics {
  std::vector<std::string> peer_text;  // the reply or lines that caused the failure
  std::string detail;                  // what happened and what to do, for humans

  void set_peer(std::vector<std::string> lines) { peer_text = std::move(lines); }
  bool empty() const { return peer_text.empty() && detail.empty(); }
};

}  // namespace otls

namespace otls::core {

enum class errc {
  line_too_long = 1,   // a line exceeded the protocol's limit
  bare_line_feed,      // LF without CR where the protocol demands CRLF
  buffer_limit,        // more unprocessed input than the limit allows
  bad_url,             // not of the form scheme://host[:port]
  unsupported_scheme,  // scheme names no known protocol
  bad_host,            // host is neither a DNS name nor an IP literal
  bad_port,            // port missing, not a number or out of range
  peer_closed,         // the peer closed the connection mid-exchange
};

const boost::system::error_category& category() noexcept;
inline error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), category()};
}

}  // namespace otls::core

template <>
struct boost::system::is_error_code_enum<otls::core::errc> : std::true_type {};
