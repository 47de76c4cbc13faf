// libFuzzer target: the IMAP server role (RFC 9051, RFC 2595, RFC 7888 literals) against
// arbitrary client bytes.
#include "dialect_fuzz.hpp"
#include "otls/proto/imap/server.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  otls::proto::server_options options;
  options.starttls_required = size % 2 == 0;
  options.tls_available = size % 3 != 0;
  options.implicit_tls = size % 5 == 0;
  otls::proto::imap::server s(options);
  otls::fuzzing::drive(s, data, size);
  return 0;
}
