// Shared driver for dialect fuzz targets: feeds arbitrary chunks, obeys every action and
// checks that the dialect ends or asks for more within a bounded number of steps.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "otls/proto/dialect.hpp"

namespace otls::fuzzing {

inline void drive(proto::dialect& d, const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  // Steps per chunk are bounded: a dialect that loops without consuming input is a bug.
  constexpr int max_steps_per_chunk = 10'000;
  bool finished = false;
  while (!finished) {
    int steps = 0;
    for (;;) {
      if (++steps > max_steps_per_chunk) std::abort();
      const proto::action a = d.next();
      if (a.what == proto::action::kind::need_more) break;
      if (a.what == proto::action::kind::done || a.what == proto::action::kind::fail) {
        finished = true;
        break;
      }
      if (a.what == proto::action::kind::start_tls) {
        (void)d.take_leftover();
        d.on_tls_established();
      }
      // Side data connections: the next input chunk is what "arrived" on them.
      if (a.what == proto::action::kind::open_data) d.on_data_opened({});
      if (a.what == proto::action::kind::finish_data) {
        const std::size_t n = std::min<std::size_t>(input.size(), 64);
        d.on_data_finished({}, input.substr(0, n));
        input.remove_prefix(n);
      }
    }
    if (finished) break;
    if (input.empty()) {
      d.on_eof();
      continue;
    }
    // The first byte of each chunk picks its length, so the fuzzer controls the framing.
    const std::size_t n = 1 + static_cast<unsigned char>(input.front()) % 64;
    input.remove_prefix(1);
    d.feed(input.substr(0, n));
    input.remove_prefix(std::min(n, input.size()));
  }
}

}  // namespace otls::fuzzing
