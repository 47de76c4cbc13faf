// FTP server role for the control channel with AUTH TLS (RFC 959, RFC 4217, RFC 2389 FEAT):
// greeting, FEAT, AUTH TLS/SSL, PBSZ, PROT, an anonymous-only login, and the harmless commands
// clients send around them. It has no data channel: transfer commands are refused. Sans-I/O.
#pragma once

#include <string>

#include "otls/proto/ftp/reply.hpp"
#include "otls/proto/session_base.hpp"

namespace otls::proto::ftp {

enum class server_state {
  greet,
  command,
  starttls_pending,  // 234 written: start_tls next
  closing,
  finished,
};

class server final : public server_base<server_state> {
 public:
  explicit server(server_options options);

  void feed(std::string_view bytes) override { lines_.feed(bytes); }
  action next() override;
  std::string take_leftover() override { return lines_.take_leftover(); }
  void on_tls_established() override;

  bool data_protected() const { return protection_ == 'P'; }
  bool logged_in() const { return logged_in_; }

 private:
  using state = server_state;

  std::string too_many_errors_reply(std::string refusal) const override;
  action on_command(const command& cmd);
  action auth(const command& cmd);
  action protection(const command& cmd);
  action login(const command& cmd);
  action features() const;

  core::line_reader lines_;
  bool pbsz_done_ = false;  // RFC 4217 §9: PROT needs a PBSZ inside TLS first
  char protection_ = 'C';   // the PROT level in force
  std::string user_;        // after USER, until PASS
  bool logged_in_ = false;
};

}  // namespace otls::proto::ftp
