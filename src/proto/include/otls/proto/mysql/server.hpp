// MySQL/MariaDB server role for the TLS upgrade (MySQL "Client/Server Protocol", "SSL
// Handshake"): an initial handshake offering CLIENT_SSL, the client's SSLRequest, TLS; inside TLS
// the HandshakeResponse gets an ERR_Packet ("no database here"). Bytes pipelined behind the
// SSLRequest are handed to the driver to discard. A MySQL client sends its ClientHello without
// waiting, so those bytes are often TLS input the driver should pass to the handshake instead
// (docs/dialects/mysql.md, "Known limitation").
#pragma once

#include <string>

#include "otls/proto/mysql/packet.hpp"
#include "otls/proto/session_base.hpp"

namespace otls::proto::mysql {

enum class server_state { greet, request, starttls_pending, closing, finished };

class server final : public server_base<server_state> {
 public:
  explicit server(server_options options);

  void feed(std::string_view bytes) override;
  action next() override;
  std::string take_leftover() override;
  void on_tls_established() override;
  // The client sends its ClientHello right after the SSLRequest, without waiting.
  bool leftover_starts_tls() const override { return true; }

 private:
  using state = server_state;

  std::string too_many_errors_reply(std::string) const override { return {}; }
  action on_packet(const packet& p);

  std::string received_;
  bool overflow_ = false;
};

}  // namespace otls::proto::mysql
