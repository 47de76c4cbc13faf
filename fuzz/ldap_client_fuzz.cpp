// libFuzzer target: the LDAP client role (RFC 4511 §4.14, RFC 4513 §3) and its response parser
// against arbitrary server bytes.
#include "dialect_fuzz.hpp"
#include "otls/proto/ldap/client.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  otls::proto::client_options options;
  options.require_tls = size % 2 == 0;
  options.implicit_tls = size % 7 == 0;
  otls::proto::ldap::client c(options);
  otls::fuzzing::drive(c, data, size);
  return 0;
}
