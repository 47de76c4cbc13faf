// libFuzzer target: the HTTP Upgrade server role (RFC 2817 §3, §4.2; Boost.Beast's request
// parser) against arbitrary client bytes, optional and mandatory upgrade.
#include "dialect_fuzz.hpp"
#include "otls/proto/http/server.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  otls::proto::server_options options;
  options.starttls_required = size % 2 == 0;
  options.tls_available = size % 5 != 0;
  options.implicit_tls = size % 7 == 0;
  options.max_errors = 4;
  otls::proto::http::server s(options);
  otls::fuzzing::drive(s, data, size);
  return 0;
}
