// libFuzzer target: the ManageSieve server role (RFC 5804) against arbitrary client bytes,
// literals included.
#include "dialect_fuzz.hpp"
#include "otls/proto/sieve/server.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  otls::proto::server_options options;
  options.starttls_required = size % 2 == 0;
  options.tls_available = size % 5 != 0;
  options.implicit_tls = size % 7 == 0;
  options.max_errors = 1000;  // let the fuzzer reach deep into a session
  otls::proto::sieve::server s(options);
  otls::fuzzing::drive(s, data, size);
  return 0;
}
