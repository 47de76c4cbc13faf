// One loop runs every dialect in either role: it performs the dialect's actions on an
// upgradable stream and hands the upgrade point to the role's policy.
#pragma once

#include <functional>
#include <string>

#include "otls/net/data_channel.hpp"
#include "otls/net/stream.hpp"
#include "otls/proto/dialect.hpp"

namespace otls::net {

// Called at start_tls with every unread pre-TLS byte; must handshake (or refuse) and return
// the outcome. The dialect's on_tls_established() is called by the driver on success.
using upgrade_handler = std::function<awaitable<error_code>(std::string leftover)>;

enum class deadline {
  per_read,      // every read and write gets `timeout` (server role: long DATA uploads)
  per_exchange,  // the whole wait for each answer gets `timeout`, however it trickles in
                 // (client role: a reply that arrives a byte at a time still times out)
};

// Runs the dialect until done or fail. Returns the dialect's error, a framing error, a
// timeout or a transport error; {} on done. `data` opens the side connections a dialect asks
// for (FTP); without one such a request fails with errc::no_data_channel. A side connection
// still open at the end is closed before this returns.
awaitable<error_code> run_dialect(upgradable_stream& stream, proto::dialect& dialect,
                                  const upgrade_handler& upgrade, duration timeout, deadline policy,
                                  data_channel* data = nullptr);

}  // namespace otls::net
