// libFuzzer target: NNTP status lines, dot-terminated data blocks, CAPABILITIES lists and
// command splitting (RFC 3977 §3.1-3.2, §5.2) on arbitrary bytes split at an arbitrary point.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "otls/proto/nntp/response.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // The first byte picks which status code carries a data block and where the rest splits.
  static constexpr int block_codes[] = {0, 101, 100, 215};
  const int block_code = block_codes[data[0] % 4];
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::size_t split = (data[0] / 4) % (input.size() + 1);
  otls::proto::nntp::response_reader reader;
  reader.feed(input.substr(0, split));
  for (int round = 0; round < 2; ++round) {
    for (;;) {
      auto r = reader.next(block_code);
      if (!r || !*r) break;
      const auto& resp = **r;
      if (resp.code < 100 || resp.code > 599) std::abort();
      if (!resp.multi_line && !resp.block.empty()) std::abort();
      if (resp.block.size() > otls::proto::nntp::max_block_lines) std::abort();
      auto caps = otls::proto::nntp::capability_list::from_block(resp.block);
      (void)caps.has("STARTTLS");
      (void)caps.arguments("AUTHINFO");
      (void)resp.as_peer_text();
    }
    reader.feed(input.substr(split));
  }
  (void)reader.take_leftover();
  if (reader.mid_response()) std::abort();  // take_leftover empties the reader
  (void)otls::proto::nntp::parse_status_line(input);
  (void)otls::proto::nntp::parse_command(input);
  return 0;
}
