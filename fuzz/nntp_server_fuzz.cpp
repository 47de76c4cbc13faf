// libFuzzer target: the NNTP server role (RFC 3977, RFC 4642 §2.2) against arbitrary client
// bytes.
#include "dialect_fuzz.hpp"
#include "otls/proto/nntp/server.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  otls::proto::server_options options;
  options.starttls_required = size % 2 == 0;
  options.tls_available = size % 3 != 0;
  options.implicit_tls = size % 5 == 0;
  otls::proto::nntp::server s(options);
  otls::fuzzing::drive(s, data, size);
  return 0;
}
