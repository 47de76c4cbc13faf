// libFuzzer target: the IMAP meddlers (STARTTLS stripper, PREAUTH injector) on arbitrary
// server bytes in arbitrary chunks. Whatever they did not rewrite must pass through unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "otls/proto/imap/offer_stripper.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  otls::proto::imap::offer_stripper stripper;
  otls::proto::imap::preauth_injector injector;
  std::string fed, stripped, injected;
  while (!input.empty()) {
    // The first byte of each chunk picks its length, as in dialect_fuzz.hpp.
    const std::size_t n = 1 + static_cast<unsigned char>(input.front()) % 64;
    input.remove_prefix(1);
    const std::string_view chunk = input.substr(0, n);
    input.remove_prefix(std::min(n, input.size()));
    fed += chunk;
    stripped += stripper.from_server(chunk);
    injected += injector.from_server(chunk);
  }
  // Untouched output is a prefix of the input (the rest may be held back for framing).
  if (stripper.offers_removed() == 0 && fed.compare(0, stripped.size(), stripped) != 0)
    std::abort();
  if (injector.offers_removed() == 0 && fed.compare(0, injected.size(), injected) != 0)
    std::abort();
  if (stripped.size() > fed.size() || injected.size() > fed.size() + 5) std::abort();
  return 0;
}
