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
#include "otls/proto/session_base.hpp"
#include "otls/proto/smtp/reply.hpp"

namespace otls::proto::smtp {

inline constexpr std::size_t max_message_size = 10 * 1024 * 1024;

// Where a server session stands (see server_base for the shared states).
enum class server_state { greet, command, data, starttls_pending, closing, finished };

class server final : public server_base<server_state> {
 public:
  server(server_options options, variant v);

  void feed(std::string_view bytes) override { lines_.feed(bytes); }
  action next() override;
  std::string take_leftover() override { return lines_.take_leftover(); }
  void on_tls_established() override;

  unsigned messages_received() const { return messages_; }

 private:
  using state = server_state;

  std::string too_many_errors_reply(std::string refusal) const override;

  action on_command(const std::string& line);
  std::optional<action> on_data_line(const std::string& line);  // nullopt: keep reading
  action ehlo(const command& cmd);
  void reset_transaction();

  variant variant_;
  core::line_reader lines_;
  bool greeted_ = false;  // EHLO/HELO seen in this phase
  bool mail_from_ = false;
  unsigned recipients_ = 0;
  std::size_t message_bytes_ = 0;
  unsigned messages_ = 0;
};

}  // namespace otls::proto::smtp
