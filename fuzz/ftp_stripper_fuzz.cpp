// libFuzzer target: the FTP STRIPTLS rewriter (RFC 2389 §3 FEAT lists, RFC 4217 §4 go-ahead) on
// arbitrary server bytes in arbitrary chunks.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "otls/proto/ftp/offer_stripper.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  otls::proto::ftp::offer_stripper s;
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
  // Lines are dropped, re-terminated with CRLF (one byte more at most), or a 234 line of at
  // least 4 bytes ("234\n") is replaced by "502 Command not implemented\r\n" (29 bytes): never
  // more than 25 bytes added per line received.
  constexpr std::size_t refusal = std::string_view("502 Command not implemented\r\n").size();
  if (out > in + lines * (refusal - 4)) std::abort();
  if (s.offers_removed() > lines) std::abort();
  return 0;
}
