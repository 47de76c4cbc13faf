// libFuzzer target: the POP3 client role (RFC 1939, RFC 2449, RFC 2595 §4) against arbitrary
// server bytes.
#include "dialect_fuzz.hpp"
#include "otls/proto/pop3/client.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  otls::proto::client_options options;
  options.require_tls = size % 2 == 0;
  options.implicit_tls = size % 7 == 0;
  otls::proto::pop3::client c(options);
  otls::fuzzing::drive(c, data, size);
  return 0;
}
