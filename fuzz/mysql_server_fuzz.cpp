// libFuzzer target: the MySQL/MariaDB server role (SSLRequest, HandshakeResponse packets) against
// arbitrary client bytes.
#include "dialect_fuzz.hpp"
#include "otls/proto/mysql/server.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  otls::proto::server_options options;
  options.tls_available = size % 3 != 0;
  otls::proto::mysql::server s(options);
  otls::fuzzing::drive(s, data, size);
  return 0;
}
