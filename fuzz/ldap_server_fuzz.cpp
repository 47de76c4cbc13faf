// libFuzzer target: the LDAP server role (RFC 4511 §4.14, RFC 4513 §3) against arbitrary client
// bytes.
#include "dialect_fuzz.hpp"
#include "otls/proto/ldap/server.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  otls::proto::server_options options;
  options.starttls_required = size % 2 == 0;
  options.tls_available = size % 5 != 0;
  options.implicit_tls = size % 7 == 0;
  otls::proto::ldap::server s(options);
  otls::fuzzing::drive(s, data, size);
  return 0;
}
