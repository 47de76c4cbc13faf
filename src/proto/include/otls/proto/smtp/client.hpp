// SMTP/LMTP client role up to and through STARTTLS (RFC 5321, RFC 3207, RFC 2033): greeting,
// EHLO (HELO fallback), STARTTLS, EHLO again after TLS, QUIT. Sans-I/O.
#pragma once

#include <optional>

#include "otls/proto/dialect.hpp"
#include "otls/proto/smtp/reply.hpp"

namespace otls::proto::smtp {

class client final : public dialect {
 public:
  client(client_options options, variant v);

  void feed(std::string_view bytes) override { replies_.feed(bytes); }
  void on_eof() override { eof_ = true; }
  action next() override;
  std::string take_leftover() override;
  void on_tls_established() override;

  const session_facts& facts() const override { return facts_; }
  const diagnostics& diag() const override { return diag_; }

  // Parsed EHLO capabilities of the current phase (empty after HELO or before EHLO).
  const ehlo_capabilities& capabilities() const { return caps_; }

 private:
  enum class state {
    greeting,
    ehlo,
    helo,
    starttls,
    handshaking,
    ehlo_after_tls,
    quit_then_done,
    quit_then_fail,
    quit,
    finished,
  };

  action on_reply(const reply& r);
  action after_capabilities();
  action quit_and_fail(error_code ec, const reply* culprit);
  action fail(error_code ec, const reply* culprit);
  std::string hello(std::string_view verb) const;

  client_options options_;
  variant variant_;
  reply_reader replies_;
  state state_ = state::greeting;
  bool tls_active_;
  bool eof_ = false;
  error_code pending_error_;
  std::string pending_write_;
  ehlo_capabilities caps_;
  session_facts facts_;
  diagnostics diag_;
};

}  // namespace otls::proto::smtp
