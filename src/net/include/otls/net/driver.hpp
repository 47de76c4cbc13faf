// One loop runs every dialect in either role: it performs the dialect's actions on an
// upgradable stream and hands the upgrade point to the role's policy.
#pragma once

#include <functional>
#include <string>

#include "otls/net/stream.hpp"
#include "otls/proto/dialect.hpp"

namespace otls::net {

// Called at start_tls with every unread pre-TLS byte; must handshake (or refuse) and return
// the outcome. The dialect's on_tls_established() is called by the driver on success.
using upgrade_handler = std::function<awaitable<error_code>(std::string leftover)>;

// Runs the dialect until done or fail. Returns the dialect's error, a framing error, a
// timeout or a transport error; {} on done.
awaitable<error_code> run_dialect(upgradable_stream& stream, proto::dialect& dialect,
                                  const upgrade_handler& upgrade, duration timeout);

}  // namespace otls::net
