// libFuzzer target: ManageSieve tokens and responses (RFC 5804 §4) with literals and escapes,
// syntax-error recovery, quoting round trips and the STARTTLS stripper, on arbitrary bytes
// split at an arbitrary point. The stripper must be lossless when it removes nothing.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "otls/proto/dialect.hpp"
#include "otls/proto/sieve/offer_stripper.hpp"
#include "otls/proto/sieve/syntax.hpp"

using namespace otls::proto::sieve;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t split = size ? data[0] % (size + 1) : 0;

  response_reader reader;
  reader.feed(input.substr(0, split));
  for (int round = 0; round < 2; ++round) {
    for (;;) {
      auto r = reader.next();
      if (!r || !*r) break;
      (void)(*r)->has("STARTTLS");
      (void)(*r)->describe_capabilities();
      (void)(*r)->as_peer_text();
    }
    reader.feed(input.substr(split));
  }
  (void)reader.take_leftover();

  // The server's way of reading: recover from syntax errors line by line.
  tokenizer commands;
  commands.feed(input);
  for (int i = 0; i < 10'000; ++i) {
    auto l = commands.next();
    if (l && !*l) break;
    if (!l) {
      if (l.error() != otls::proto::errc::malformed_reply) break;
      commands.skip_line();
    }
  }
  (void)commands.take_leftover();

  // Whatever quote() produces reads back as the same string.
  const std::string_view sample = input.substr(0, std::min<std::size_t>(input.size(), 2000));
  tokenizer back;
  back.feed(quote(sample) + "\r\n");
  auto l = back.next();
  if (!l || !*l || (*l)->tokens.size() != 1 || (*l)->tokens[0].text != sample) std::abort();

  offer_stripper stripper;
  // Two statements: the operands of + may be evaluated in either order.
  std::string out = stripper.from_server(input.substr(0, split));
  out += stripper.from_server(input.substr(split));
  if (out.size() > input.size()) std::abort();
  if (stripper.offers_removed() == 0 && input.substr(0, out.size()) != out) std::abort();
  return 0;
}
