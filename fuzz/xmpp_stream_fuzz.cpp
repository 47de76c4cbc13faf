// libFuzzer target: the expat-based XMPP stream/features reader (RFC 6120 §4, §11) on arbitrary
// bytes split at an arbitrary point, and the STARTTLS stripper. The reader's leftover must be a
// suffix of the input; the stripper must be lossless when it removes nothing.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "otls/proto/xmpp/client.hpp"
#include "otls/proto/xmpp/offer_stripper.hpp"
#include "otls/proto/xmpp/stream.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t split = size ? data[0] % (size + 1) : 0;
  const unsigned stop_after = size > 1 ? data[1] % 8 : 0;  // take the leftover after this event

  otls::proto::xmpp::stream_reader reader;
  reader.feed(input.substr(0, split));
  unsigned events = 0;
  bool stopped = false;
  for (int round = 0; round < 2 && !stopped; ++round) {
    for (;;) {
      auto ev = reader.next();
      if (!ev || !*ev) break;
      (void)otls::proto::xmpp::describe_features((*ev)->el);
      (void)(*ev)->el.to_xml();
      if (++events == stop_after) {
        stopped = true;
        break;
      }
    }
    if (round == 0) reader.feed(input.substr(split));
  }
  const std::string rest = reader.take_leftover();
  if (rest.size() > input.size() || input.substr(input.size() - rest.size()) != rest) std::abort();

  otls::proto::xmpp::offer_stripper stripper;
  // Two statements: the operands of + may be evaluated in either order.
  std::string out = stripper.from_server(input.substr(0, split));
  out += stripper.from_server(input.substr(split));
  if (out.size() > input.size()) std::abort();
  if (stripper.offers_removed() == 0 && input.substr(0, out.size()) != out) std::abort();
  return 0;
}
