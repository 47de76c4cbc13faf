// libFuzzer target: the MySQL/MariaDB client role (initial handshake packet, ERR_Packet) against
// arbitrary server bytes, plus the handshake parser and the STRIPTLS rewriter on the same input.
#include "dialect_fuzz.hpp"
#include "otls/proto/mysql/client.hpp"
#include "otls/proto/mysql/offer_stripper.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  (void)otls::proto::mysql::parse_handshake(input);
  (void)otls::proto::mysql::parse_err(input);
  otls::proto::mysql::offer_stripper stripper;
  (void)stripper.from_server(input);

  otls::proto::client_options options;
  options.require_tls = size % 2 == 0;
  otls::proto::mysql::client c(options);
  otls::fuzzing::drive(c, data, size);
  return 0;
}
