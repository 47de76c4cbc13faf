// libFuzzer target: the PostgreSQL server role (startup-phase packets: SSLRequest, GSSENCRequest,
// CancelRequest, StartupMessage) against arbitrary client bytes.
#include "dialect_fuzz.hpp"
#include "otls/proto/postgres/server.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  otls::proto::server_options options;
  options.tls_available = size % 3 != 0;
  otls::proto::postgres::server s(options);
  otls::fuzzing::drive(s, data, size);
  return 0;
}
