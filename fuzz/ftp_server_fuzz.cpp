// libFuzzer target: the FTP server role (RFC 959, RFC 2228, RFC 4217 AUTH TLS) against arbitrary
// client bytes.
#include "dialect_fuzz.hpp"
#include "otls/proto/ftp/server.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  otls::proto::server_options options;
  options.starttls_required = size % 2 == 0;
  options.tls_available = size % 3 != 0;
  options.implicit_tls = size % 5 == 0;
  otls::proto::ftp::server s(options);
  otls::fuzzing::drive(s, data, size);
  // PROT P and a login need TLS where it is required.
  if (options.starttls_required && !s.tls_active() && (s.logged_in() || s.data_protected()))
    std::abort();
  if (s.data_protected() && !s.tls_active()) std::abort();
  return 0;
}
