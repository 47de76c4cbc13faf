// libFuzzer target: the SMTP server role (RFC 5321, RFC 3207 §4) against arbitrary client bytes.
#include "dialect_fuzz.hpp"
#include "otls/proto/smtp/server.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  otls::proto::server_options options;
  options.starttls_required = size % 2 == 0;
  otls::proto::smtp::server s(
      options, size % 3 == 0 ? otls::proto::smtp::variant::lmtp : otls::proto::smtp::variant::smtp);
  otls::fuzzing::drive(s, data, size);
  return 0;
}
