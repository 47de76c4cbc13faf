// libFuzzer target: the SMTP client role (RFC 5321, RFC 3207) against arbitrary server bytes.
#include "dialect_fuzz.hpp"
#include "otls/proto/smtp/client.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  otls::proto::client_options options;
  options.require_tls = size % 2 == 0;
  otls::proto::smtp::client c(
      options, size % 3 == 0 ? otls::proto::smtp::variant::lmtp : otls::proto::smtp::variant::smtp);
  otls::fuzzing::drive(c, data, size);
  return 0;
}
