// Errors of the network layer and the mapping of any layer's error to a named outcome.
#pragma once

#include "otls/core/error.hpp"
#include "otls/core/outcome.hpp"

namespace otls::net {

enum class errc {
  resolve_failure = 1,  // the name did not resolve (or not for the requested family)
  connect_failure,      // no address accepted a TCP connection
  timeout,              // a step did not finish within its time limit
  response_injection,   // bytes followed the go-ahead reply before the handshake (rule 1)
  connection_lost,      // reset or broken pipe mid-exchange
  http_failure,         // a malformed HTTP response, or a body over the limit (https.hpp)
  no_data_channel,      // a dialect asked for a side data connection this driver cannot open
  data_too_large,       // a side data connection sent more than data_channel's limit
};

const boost::system::error_category& category() noexcept;
inline error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), category()};
}

// The named outcome for an error of any layer ({} is ok).
core::outcome outcome_of(const error_code& ec) noexcept;

}  // namespace otls::net

template <>
struct boost::system::is_error_code_enum<otls::net::errc> : std::true_type {};
