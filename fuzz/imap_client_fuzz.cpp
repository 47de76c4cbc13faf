// libFuzzer target: the IMAP client role (RFC 9051, RFC 2595) against arbitrary server bytes,
// at both levels and with implicit TLS.
#include "dialect_fuzz.hpp"
#include "otls/proto/imap/client.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  otls::proto::client_options options;
  options.require_tls = size % 2 == 0;
  options.implicit_tls = size % 5 == 0;
  otls::proto::imap::client c(options);
  otls::fuzzing::drive(c, data, size);
  return 0;
}
