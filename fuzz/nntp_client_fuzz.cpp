// libFuzzer target: the NNTP client role (RFC 3977, RFC 4642) against arbitrary server bytes.
#include "dialect_fuzz.hpp"
#include "otls/proto/nntp/client.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  otls::proto::client_options options;
  options.require_tls = size % 2 == 0;
  options.implicit_tls = size % 5 == 0;
  otls::proto::nntp::client c(options);
  otls::fuzzing::drive(c, data, size);
  return 0;
}
