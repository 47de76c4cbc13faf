// IMAP client role up to and through STARTTLS (RFC 9051, RFC 3501, RFC 2595): greeting
// (OK, PREAUTH, BYE), CAPABILITY (from the greeting's response code or asked for), STARTTLS,
// CAPABILITY again after TLS, LOGOUT. Implicit TLS (imaps, RFC 8314) skips the upgrade. Sans-I/O.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "otls/proto/dialect.hpp"
#include "otls/proto/imap/response.hpp"

namespace otls::proto::imap {

class client final : public dialect {
 public:
  explicit client(client_options options);

  void feed(std::string_view bytes) override { frames_.feed(bytes); }
  void on_eof() override { eof_ = true; }
  action next() override;
  std::string take_leftover() override;
  void on_tls_established() override;

  const session_facts& facts() const override { return facts_; }
  const diagnostics& diag() const override { return diag_; }

  // Capabilities of the current phase, as sent ("IMAP4rev1", "STARTTLS", "AUTH=PLAIN").
  const std::vector<std::string>& capabilities() const { return caps_; }

 private:
  enum class state {
    greeting,
    capability,  // CAPABILITY sent, before or after TLS
    starttls,
    handshaking,
    logout,            // LOGOUT sent; the session ends well
    logout_then_fail,  // LOGOUT sent after a failure
    finished,
  };

  std::optional<action> on_response(const response& r);  // nullopt: read on
  action on_greeting(const response& r);
  action capabilities_known();
  action send(std::string_view name, state next);
  action logout() { return send("LOGOUT", state::logout); }
  action logout_and_fail(error_code ec, const response* culprit);
  action fail(error_code ec, const response* culprit);
  void record_capabilities(std::vector<std::string> caps);

  client_options options_;
  frame_reader frames_;
  state state_ = state::greeting;
  bool tls_active_;
  bool eof_ = false;
  unsigned tag_counter_ = 0;
  std::string tag_;  // of the command awaiting its tagged response
  std::vector<std::string> caps_;
  error_code pending_error_;
  std::string pending_write_;
  session_facts facts_;
  diagnostics diag_;
};

}  // namespace otls::proto::imap
