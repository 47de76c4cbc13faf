// libFuzzer target: the _mta-sts (RFC 8461 §3.1) and _smtp._tls (RFC 8460 §3) TXT RRset parsers
// on arbitrary bytes. A 0x00 byte ends a record's character-string, a "\n" ends a record.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "otls/policy/mta_sts.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<otls::dns::txt_record> records(1);
  std::size_t start = 0;
  for (std::size_t i = 0; i <= input.size(); ++i) {
    if (i < input.size() && input[i] != '\0' && input[i] != '\n') continue;
    records.back().strings.emplace_back(input.substr(start, i - start));
    if (i < input.size() && input[i] == '\n') records.emplace_back();
    start = i + 1;
  }

  const auto sts = otls::policy::parse_sts_txt(records);
  (void)otls::policy::to_string(sts.status);
  const bool found = sts.status == otls::policy::sts_txt_status::found;
  // A found record carries an id of 1-32 characters; anything else says why it is not found.
  if (found && (sts.id.empty() || sts.id.size() > 32)) __builtin_trap();
  if (!found && sts.detail.empty()) __builtin_trap();

  const auto tlsrpt = otls::policy::parse_tlsrpt_txt(records);
  if (tlsrpt.found == tlsrpt.rua.empty()) __builtin_trap();
  if (!tlsrpt.found && tlsrpt.detail.empty()) __builtin_trap();
  return 0;
}
