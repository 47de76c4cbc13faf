// libFuzzer target: the NNTP STRIPTLS rewriter (RFC 3977 §5.2 blocks, RFC 4642 §2.1 offer) on
// arbitrary server bytes in arbitrary chunks.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "otls/proto/nntp/offer_stripper.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  otls::proto::nntp::offer_stripper s;
  std::size_t in = 0, out = 0, lines = 0;
  while (!input.empty()) {
    // The first byte of each chunk picks its length, so the fuzzer controls the framing.
    const std::size_t n = 1 + static_cast<unsigned char>(input.front()) % 64;
    input.remove_prefix(1);
    const std::string_view chunk = input.substr(0, n);
    input.remove_prefix(chunk.size());
    for (char c : chunk) lines += c == '\n';
    in += chunk.size();
    out += s.from_server(chunk).size();
  }
  // Lines are only ever dropped, or re-terminated with CRLF: never more than one byte added
  // per line received.
  if (out > in + lines) std::abort();
  if (s.offers_removed() > lines) std::abort();
  return 0;
}
