// FTP client role through AUTH TLS (RFC 959, RFC 4217): greeting, FEAT, AUTH TLS, FEAT again
// inside TLS, PBSZ 0 and PROT P; optionally a login (USER/PASS) and a directory listing over
// a passive data connection (EPSV, RFC 2428; else PASV) under TLS; QUIT. Sans-I/O.
#pragma once

#include <string>

#include "otls/proto/ftp/reply.hpp"
#include "otls/proto/session_base.hpp"

namespace otls::proto::ftp {

// Where a client session stands (see client_base for the shared states).
enum class client_state {
  greeting,
  features,  // FEAT sent, before or after TLS
  auth,      // AUTH TLS sent
  handshaking,
  pbsz,
  prot,
  user,
  pass,
  epsv,
  pasv,
  data_opening,  // open_data asked; waiting for on_data_opened()
  list,          // LIST sent; waiting for its preliminary reply
  transfer,      // finish_data asked; waiting for on_data_finished()
  list_done,     // the data arrived; waiting for LIST's final reply
  goodbye,       // QUIT sent
  goodbye_then_fail,
  finished,
};

class client final : public client_base<client_state> {
 public:
  explicit client(client_options options);

  void feed(std::string_view bytes) override { replies_.feed(bytes); }
  action next() override;
  std::string take_leftover() override { return replies_.take_leftover(); }
  void on_tls_established() override;
  void on_data_opened(error_code ec) override;
  void on_data_finished(error_code ec, std::string_view received) override;

  // The FEAT list of the current phase (empty before one arrived, or from a server without
  // FEAT).
  const feature_list& features() const { return features_; }
  // PROT P was accepted: data connections run under TLS.
  bool data_protected() const { return data_protected_; }

 private:
  using state = client_state;

  std::string goodbye_command() override { return "QUIT\r\n"; }
  action on_reply(const reply& r);
  action on_greeting(const reply& r);
  action on_features(const reply& r);
  action on_auth(const reply& r);
  action on_protection(const reply& r);
  action on_login(const reply& r);
  action on_passive(const reply& r);
  action on_list(const reply& r);
  action after_protection();
  action after_login();
  action no_upgrade(error_code ec, const reply* culprit, std::string detail, std::string warning);
  action data_failed(const reply* culprit, std::string detail);

  reply_reader replies_;
  feature_list features_;
  bool data_protected_ = false;
  unsigned preliminary_replies_ = 0;  // 1xx before the greeting (bounded)
  error_code data_error_;             // from on_data_opened / on_data_finished
  bool data_reported_ = false;        // an on_data_* answer is waiting to be handled
  bool list_final_seen_ = false;      // LIST's final reply came before the data was read
};

}  // namespace otls::proto::ftp
