// libFuzzer target: the XMPP client role (RFC 6120 §4-5) against arbitrary server bytes, c2s or
// s2s, with expat underneath.
#include "dialect_fuzz.hpp"
#include "otls/proto/xmpp/client.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  otls::proto::client_options options;
  options.server_name = "xmpp.test";
  options.require_tls = size % 2 == 0;
  options.implicit_tls = size % 7 == 0;
  otls::proto::xmpp::client c(
      options, size % 3 == 0 ? otls::proto::xmpp::variant::s2s : otls::proto::xmpp::variant::c2s);
  otls::fuzzing::drive(c, data, size);
  return 0;
}
