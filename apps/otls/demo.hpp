// `otls demo`: the embedded default lab (server, STRIPTLS attacker, probes) on loopback.
#pragma once

namespace otls::app {

struct demo_options {
  bool details = false;  // print each probe's full report too
};

// 0 when the lab behaved as designed; 1 otherwise (so the demo doubles as a smoke test).
int run_demo(const demo_options& options);

}  // namespace otls::app
