// HTTP Upgrade to TLS, server role (RFC 2817 §3, §4.2 426 Upgrade Required), built against the
// desynchronisation that made Apache drop this feature (CVE-2025-49812): the only request that
// upgrades is `OPTIONS * HTTP/1.1` with Upgrade: TLS/1.x and Connection: Upgrade; every byte the
// client sent behind it is discarded at the upgrade; inside TLS exactly that OPTIONS * is
// answered (200 with Allow) and the connection closes. No plaintext request other than that
// OPTIONS * is ever answered inside TLS.
//
// Plaintext requests that do not upgrade: with starttls_required, 426 Upgrade Required (the
// connection stays open so the client can send the OPTIONS * upgrade; refusals are counted
// against max_errors); otherwise a small 200 with Connection: close, and the session ends.
#pragma once

#include "otls/proto/http/message.hpp"
#include "otls/proto/session_base.hpp"

namespace otls::proto::http {

// Where a server session stands (see server_base for the shared states). HTTP has no greeting:
// the constructor starts in `request`; `greet` is never used.
enum class server_state {
  greet,
  request,           // reading a plaintext request (or, with implicit TLS, one inside TLS)
  starttls_pending,  // 101 is out: the handshake follows
  answer_options,    // inside TLS: answer the OPTIONS * that asked for the upgrade
  closing,
  finished,
};

class server final : public server_base<server_state> {
 public:
  explicit server(server_options options);

  void feed(std::string_view bytes) override { requests_.feed(bytes); }
  action next() override;
  std::string take_leftover() override { return requests_.take_leftover(); }
  void on_tls_established() override;

 private:
  using state = server_state;

  std::string too_many_errors_reply(std::string refusal) const override;
  action on_request(const request& r);
  bool asks_for_tls_upgrade(const request& r) const;

  request_reader requests_;
};

}  // namespace otls::proto::http
