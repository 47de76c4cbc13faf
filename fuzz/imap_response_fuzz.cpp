// libFuzzer target: IMAP framing with literals ({n}, {n+}, ~{n}) and response/command parsing
// (RFC 9051 §4.3, §7, §9; RFC 7888) on arbitrary bytes split at an arbitrary point, under the
// real limits and under tiny ones that make every limit reachable.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "otls/proto/imap/response.hpp"

namespace {

void exercise(const otls::proto::imap::frame_limits& limits, otls::core::line_ending ending,
              std::string_view input, std::size_t split) {
  using namespace otls::proto::imap;
  frame_reader reader(limits, ending);
  reader.feed(input.substr(0, split));
  for (int round = 0; round < 2; ++round) {
    for (;;) {
      (void)reader.awaiting_literal();
      (void)reader.partial_text();
      auto f = reader.next();
      if (!f || !*f) break;
      const frame copy = **f;
      (void)parse_command(copy);
      auto r = parse_response(std::move(**f));
      if (!r) continue;
      (void)r->code_name();
      (void)r->as_peer_text();
      if (auto caps = capabilities_of(*r)) (void)has_capability(*caps, "STARTTLS");
    }
    reader.feed(input.substr(split));
  }
  (void)reader.take_leftover();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using otls::core::line_ending;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t split = size ? data[0] % (size + 1) : 0;
  exercise(otls::proto::imap::response_limits, line_ending::accept_bare_lf, input, split);
  exercise(otls::proto::imap::frame_limits{32, 16, 64}, line_ending::crlf_only, input, split);
  (void)otls::proto::imap::literal_at_end(input);
  (void)otls::proto::imap::valid_tag(input);
  return 0;
}
