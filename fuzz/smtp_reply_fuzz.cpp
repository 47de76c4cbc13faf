// libFuzzer target: SMTP reply reassembly, EHLO keyword parsing and command splitting
// (RFC 5321 §4.1-4.2) on arbitrary bytes split at an arbitrary point.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "otls/proto/smtp/reply.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t split = size ? data[0] % (size + 1) : 0;
  otls::proto::smtp::reply_reader reader;
  reader.feed(input.substr(0, split));
  for (int round = 0; round < 2; ++round) {
    for (;;) {
      auto r = reader.next();
      if (!r || !*r) break;
      auto caps = otls::proto::smtp::ehlo_capabilities::from_reply(**r);
      (void)caps.has("STARTTLS");
      (void)caps.size_limit();
      (void)caps.auth_mechanisms();
      (void)(*r)->as_peer_text();
    }
    reader.feed(input.substr(split));
  }
  (void)reader.take_leftover();
  (void)otls::proto::smtp::parse_command(input);
  return 0;
}
