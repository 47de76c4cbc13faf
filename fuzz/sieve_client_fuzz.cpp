// libFuzzer target: the ManageSieve client role (RFC 5804) against arbitrary server bytes.
#include "dialect_fuzz.hpp"
#include "otls/proto/sieve/client.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  otls::proto::client_options options;
  options.require_tls = size % 2 == 0;
  options.implicit_tls = size % 7 == 0;
  otls::proto::sieve::client c(options);
  otls::fuzzing::drive(c, data, size);
  return 0;
}
