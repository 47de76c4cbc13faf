// libFuzzer target: the XMPP server role (RFC 6120 §4-5) against arbitrary client bytes.
#include "dialect_fuzz.hpp"
#include "otls/proto/xmpp/server.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  otls::proto::server_options options;
  options.starttls_required = size % 2 == 0;
  options.tls_available = size % 5 != 0;
  otls::proto::xmpp::server s(options);
  otls::fuzzing::drive(s, data, size);
  return 0;
}
