// SMTP/LMTP server role with STARTTLS (RFC 5321, RFC 3207, RFC 2033): greeting, EHLO/HELO,
// STARTTLS, a message sink (MAIL/RCPT/DATA accepted and discarded), RSET, NOOP, QUIT.
//
// starttls_required (RFC 3207 §4) answers "530 5.7.0 Must issue a STARTTLS command first" to
// every command except EHLO/LHLO, NOOP, RSET, STARTTLS and QUIT. HELO is refused too: a HELO
// session cannot see the STARTTLS offer, so the client is better told at once. RSET is allowed
// because it changes nothing and clients send it to recover. A publicly referenced MX on port
// 25 must not require STARTTLS (RFC 3207 §4): use this on submission and private relays.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "otls/core/line_reader.hpp"
#include "otls/proto/dialect.hpp"
#include "otls/proto/smtp/reply.hpp"

namespace otls::proto::smtp {

inline constexpr std::size_t max_message_size = 10 * 1024 * 1024;

class server final : public dialect {
 public:
  server(server_options options, variant v);

  void feed(std::string_view bytes) override { lines_.feed(bytes); }
  void on_eof() override { eof_ = true; }
  action next() override;
  std::string take_leftover() override { return lines_.take_leftover(); }
  void on_tls_established() override;

  const session_facts& facts() const override { return facts_; }
  const diagnostics& diag() const override { return diag_; }

  bool tls_active() const { return tls_active_; }
  unsigned messages_received() const { return messages_; }

 private:
  enum class state { greet, command, data, starttls_pending, closing, finished };

  action on_command(const std::string& line);
  std::optional<action> on_data_line(const std::string& line);  // nullopt: keep reading
  action ehlo(const command& cmd);
  action error_reply(std::string text);
  action close_with(std::string text, error_code ec);
  void reset_transaction();

  server_options options_;
  variant variant_;
  core::line_reader lines_;
  state state_ = state::greet;
  bool tls_active_;
  bool eof_ = false;
  bool greeted_ = false;  // EHLO/HELO seen in this phase
  bool mail_from_ = false;
  unsigned recipients_ = 0;
  std::size_t message_bytes_ = 0;
  unsigned errors_ = 0;
  unsigned messages_ = 0;
  error_code close_error_;
  session_facts facts_;
  diagnostics diag_;
};

}  // namespace otls::proto::smtp
