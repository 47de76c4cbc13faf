// The client driver: resolve, connect (every address in turn), run a dialect, upgrade in place
// or start with implicit TLS, verify, and report. Enforces DESIGN.md's STARTTLS rules 1, 2, 4.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "otls/net/data_channel.hpp"
#include "otls/net/stream.hpp"
#include "otls/proto/registry.hpp"
#include "otls/tls/tls.hpp"

namespace otls::net {

enum class address_family { any, ipv4, ipv6 };

struct client_settings {
  duration timeout{10'000};  // per step: resolve, each connect, each reply, the handshake
  address_family family = address_family::any;
  proto::client_options dialect;   // require_tls false: plaintext allowed and reported
  tls::client_config tls;          // servername empty: the target's host
  bool verify_certificate = true;  // stop unless the chain is trusted and the name matches
  // Non-empty: connect to these (e.g. DNSSEC-validated addresses) instead of resolving the
  // target's host through the system resolver.
  std::vector<tcp::endpoint> endpoints;
};

struct connect_attempt {
  std::string address;  // "[::1]:25", "127.0.0.1:25"
  error_code error;
};

struct client_report {
  proto::target target;
  std::string address;         // the address the session ran on
  std::string reference_name;  // the name the certificate was checked against (SNI unless IP)
  bool implicit_tls = false;
  proto::session_facts facts;
  std::optional<tls::session_facts> tls;
  std::vector<connect_attempt> attempts;
  std::vector<std::string> warnings;
  error_code error;  // the first failure; {} when the requested level was met
  diagnostics diag;
  std::string leftover_plaintext;  // what arrived after the go-ahead (response injection)
  std::optional<data_channel_report> data_channel;  // FTP --data: the data connection
  duration elapsed{0};
};

awaitable<client_report> run_client(proto::target target, client_settings settings);

// Connects to each endpoint in turn, each attempt bounded by `timeout`, until one accepts;
// every attempt is recorded. Errors: errc::connect_failure, or errc::timeout when the last
// attempt timed out.
awaitable<result<tcp::socket>> connect_first(const std::vector<tcp::endpoint>& endpoints,
                                             duration timeout,
                                             std::vector<connect_attempt>& attempts);

}  // namespace otls::net
