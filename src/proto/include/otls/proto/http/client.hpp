// HTTP Upgrade to TLS, client role (RFC 2817 §3): OPTIONS * with Upgrade: TLS/1.0, 101 Switching
// Protocols, the handshake, then the response to that same OPTIONS read inside TLS (§3.3).
// Sans-I/O; messages are framed by Boost.Beast's parser (message.hpp).
#pragma once

#include <string>

#include "otls/proto/http/message.hpp"
#include "otls/proto/session_base.hpp"

namespace otls::proto::http {

// Where a client session stands (see client_base for the shared states). HTTP has no greeting:
// `greeting` is the moment before the upgrade request goes out.
enum class client_state {
  greeting,
  upgrade_sent,  // OPTIONS * with Upgrade is out; waiting for 101 (interim 1xx skipped)
  handshaking,
  final_response,  // inside TLS: the response to the OPTIONS request (§3.3)
  goodbye,         // unused: HTTP has no goodbye command; kept for client_base
  goodbye_then_fail,
  finished,
};

class client final : public client_base<client_state> {
 public:
  explicit client(client_options options);

  void feed(std::string_view bytes) override { responses_.feed(bytes); }
  action next() override;
  std::string take_leftover() override { return responses_.take_leftover(); }
  void on_tls_established() override;

  // The upgrade request this client sends (for tests and docs).
  std::string upgrade_request() const;

 private:
  using state = client_state;

  std::string goodbye_command() override { return {}; }
  action on_response(const response& r);
  action on_upgrade_answer(const response& r);
  action not_supported(const response& r, std::string detail);
  action finish() {
    state_ = state::finished;
    return action::done();
  }

  response_reader responses_{true};  // decisions need the header only (message.hpp)
  unsigned interim_ = 0;             // 1xx responses skipped in this phase (bounded)
};

}  // namespace otls::proto::http
