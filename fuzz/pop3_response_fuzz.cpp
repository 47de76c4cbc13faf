// libFuzzer target: POP3 response framing with dot-unstuffing (RFC 1939 §3), CAPA keywords
// (RFC 2449 §5), command splitting, and the STLS stripper, on arbitrary bytes split at an
// arbitrary point. The stripper must be lossless when it removes nothing.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "otls/proto/pop3/offer_stripper.hpp"
#include "otls/proto/pop3/response.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t split = size ? data[0] % (size + 1) : 0;
  const unsigned modes = size > 1 ? data[1] : 0;  // which responses are multi-line

  otls::proto::pop3::response_reader reader;
  reader.feed(input.substr(0, split));
  unsigned n = 0;
  for (int round = 0; round < 2; ++round) {
    for (;;) {
      auto r = reader.next((modes >> (n++ % 8)) & 1);
      if (!r || !*r) break;
      const auto caps = otls::proto::pop3::capabilities::from_response(**r);
      (void)caps.has("STLS");
      (void)(*r)->as_peer_text();
    }
    reader.feed(input.substr(split));
  }
  (void)reader.take_leftover();
  (void)otls::proto::pop3::parse_command(input);

  otls::proto::pop3::offer_stripper stripper;
  // Two statements: the operands of + may be evaluated in either order.
  std::string out = stripper.from_server(input.substr(0, split));
  out += stripper.from_server(input.substr(split));
  if (out.size() > input.size()) std::abort();
  if (stripper.offers_removed() == 0 && input.substr(0, out.size()) != out) std::abort();
  return 0;
}
