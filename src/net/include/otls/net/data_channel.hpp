// FTP's data connection as a client opens it (RFC 959 §3.2, RFC 2428 §3): to a port on the
// control connection's peer, under TLS resuming the control connection's session when data is
// protected (RFC 4217 §9, §10.2), and received in the background while the control channel
// goes on (servers differ in whether they answer LIST before or after the data handshake).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/ssl/context.hpp>

#include "otls/net/stream.hpp"
#include "otls/tls/tls.hpp"

namespace otls::net {

struct data_channel_report {
  std::string address;     // where it connected: the control connection's peer, "127.0.0.1:40001"
  std::string advertised;  // the host a PASV reply named, when it named one (never connected to)
  bool tls = false;        // PROT P: the connection ran under TLS
  std::optional<tls::session_facts> tls_facts;  // its handshake (resumed or not)
  std::vector<std::string> warnings;
  std::string failure;  // why its handshake or verification failed (OpenSSL's words), if it did
};

class data_channel {
 public:
  // A directory listing larger than this is refused (errc::data_too_large).
  static constexpr std::size_t max_bytes = 1 << 20;

  // `control` must be connected (and upgraded, for protected data); `context` and `control`
  // must outlive the channel's close().
  data_channel(upgradable_stream& control, boost::asio::ssl::context& context,
               tls::client_config config, bool verify_certificate, duration timeout);
  data_channel(const data_channel&) = delete;
  data_channel& operator=(const data_channel&) = delete;
  ~data_channel();

  // Connects to `port` on the control connection's peer within the timeout, then receives in
  // the background: the TLS handshake (when `protect`) and everything until the server closes
  // the connection, all within twice the timeout. One channel at a time.
  awaitable<error_code> open(std::uint16_t port, bool protect, std::string advertised);
  // Waits for the background receive to end; what arrived, or why it failed.
  awaitable<result<std::string>> finish();
  // Closes a connection still open and waits for the background receive to stop. Always
  // awaited before the channel (and the context) go away.
  awaitable<void> close();

  // The last connection's facts; nullopt before open().
  const std::optional<data_channel_report>& report() const { return report_; }

 private:
  struct transfer;
  static awaitable<void> receive(std::shared_ptr<transfer> t);

  upgradable_stream& control_;
  boost::asio::ssl::context& context_;
  tls::client_config config_;
  bool verify_certificate_;
  duration timeout_;
  std::shared_ptr<transfer> transfer_;
  std::optional<data_channel_report> report_;
};

}  // namespace otls::net
