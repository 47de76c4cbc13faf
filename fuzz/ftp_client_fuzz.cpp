// libFuzzer target: the FTP client role (RFC 959, RFC 4217, RFC 2428) against arbitrary server
// bytes, with and without the --data login and listing (the data connection's bytes come from
// the input too).
#include "dialect_fuzz.hpp"
#include "otls/proto/ftp/client.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  otls::proto::client_options options;
  options.require_tls = size % 2 == 0;
  options.implicit_tls = size % 5 == 0;
  options.log_in = size % 3 != 0;
  options.transfer_data = size % 7 != 0;
  if (size % 11 == 0) {
    options.user = "alice";
    options.password = "s3cret";
  }
  otls::proto::ftp::client c(options);
  otls::fuzzing::drive(c, data, size);
  // Credentials never go out in plaintext (DESIGN.md rule 4): a plaintext ending has no login.
  if (c.facts().ended_in_plaintext && !c.facts().logged_in_as.empty()) std::abort();
  if (c.facts().data && !(options.transfer_data)) std::abort();
  return 0;
}
