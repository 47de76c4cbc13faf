// A man-in-the-middle relay on loopback that applies a protocol's offer stripper to
// server-to-client bytes: the STRIPTLS attacker of the demo lab and of tests.
#pragma once

#include <atomic>
#include <functional>
#include <memory>

#include "otls/net/stream.hpp"
#include "otls/proto/registry.hpp"

namespace otls::net {

struct meddler_stats {
  std::atomic<unsigned> connections{0};
  std::atomic<unsigned> offers_removed{0};
};

// Makes one rewriter per relayed connection: a registry line's make_stripper, or another
// attack such as IMAP's PREAUTH injection.
using rewriter_factory = std::function<std::unique_ptr<proto::offer_stripper>()>;

// Accepts until the acceptor closes; relays each connection to `upstream`, rewriting the
// server's bytes with a fresh rewriter. Each read is bounded by `timeout`.
awaitable<void> meddler_loop(tcp::acceptor& acceptor, tcp::endpoint upstream,
                             rewriter_factory make_rewriter, duration timeout,
                             std::shared_ptr<meddler_stats> stats);

}  // namespace otls::net
