// libFuzzer target: the PostgreSQL client role (SSLRequest answer: 'S', 'N', ErrorResponse)
// against arbitrary server bytes.
#include "dialect_fuzz.hpp"
#include "otls/proto/postgres/client.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  otls::proto::client_options options;
  options.require_tls = size % 2 == 0;
  options.implicit_tls = size % 7 == 0;
  otls::proto::postgres::client c(options);
  otls::fuzzing::drive(c, data, size);
  return 0;
}
