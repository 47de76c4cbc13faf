// libFuzzer target: the HTTP Upgrade client role (RFC 2817 §3, Boost.Beast's response parser)
// against arbitrary server bytes, before and after the simulated handshake.
#include "dialect_fuzz.hpp"
#include "otls/proto/http/client.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  otls::proto::client_options options;
  options.server_name = "www.test";
  options.require_tls = size % 2 == 0;
  options.implicit_tls = size % 7 == 0;
  otls::proto::http::client c(options);
  otls::fuzzing::drive(c, data, size);
  return 0;
}
