// libFuzzer target: IRC message parsing (RFC 2812 §2.3.1, IRCv3 message-tags), CAP replies and
// capability lists (IRCv3 capability negotiation 3.2), STS values, and the `tls` stripper, on
// arbitrary bytes split at an arbitrary point. The stripper never grows its input, and is
// lossless when it removes nothing.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "otls/proto/irc/message.hpp"
#include "otls/proto/irc/offer_stripper.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t split = size ? data[0] % (size + 1) : 0;

  otls::proto::irc::message_reader reader;
  reader.feed(input.substr(0, split));
  for (int round = 0; round < 2; ++round) {
    for (;;) {
      auto m = reader.next();
      if (!m || !*m) break;
      (void)(*m)->numeric();
      (void)(*m)->last_param();
      if ((*m)->params.size() > 15) std::abort();
      if (const auto cap = otls::proto::irc::parse_cap_reply(**m)) {
        for (const auto& c : otls::proto::irc::parse_capabilities(cap->list))
          if (c.name == "sts") (void)otls::proto::irc::parse_sts(c.value);
      }
    }
    reader.feed(input.substr(split));
  }
  (void)reader.take_leftover();
  (void)otls::proto::irc::parse_sts(input);

  otls::proto::irc::offer_stripper stripper;
  // Two statements: the operands of + may be evaluated in either order.
  std::string out = stripper.from_server(input.substr(0, split));
  out += stripper.from_server(input.substr(split));
  if (out.size() > input.size()) std::abort();
  if (stripper.offers_removed() == 0 && input.substr(0, out.size()) != out) std::abort();
  return 0;
}
