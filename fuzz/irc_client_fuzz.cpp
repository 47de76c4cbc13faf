// libFuzzer target: the IRC client role (IRCv3 tls extension, capability negotiation 3.2,
// RFC 2812) against arbitrary server bytes.
#include "dialect_fuzz.hpp"
#include "otls/proto/irc/client.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  otls::proto::client_options options;
  options.require_tls = size % 2 == 0;
  options.implicit_tls = size % 7 == 0;
  otls::proto::irc::client c(options);
  otls::fuzzing::drive(c, data, size);
  return 0;
}
