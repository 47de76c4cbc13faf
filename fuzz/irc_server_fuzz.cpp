// libFuzzer target: the IRC server role (IRCv3 tls extension, capability negotiation 3.2,
// RFC 2812) against arbitrary client bytes.
#include "dialect_fuzz.hpp"
#include "otls/proto/irc/server.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  otls::proto::server_options options;
  options.starttls_required = size % 2 == 0;
  options.tls_available = size % 5 != 0;
  options.implicit_tls = size % 7 == 0;
  otls::proto::irc::server s(options);
  otls::fuzzing::drive(s, data, size);
  return 0;
}
