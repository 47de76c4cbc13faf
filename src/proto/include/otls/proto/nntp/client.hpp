// NNTP client role up to and through STARTTLS (RFC 3977, RFC 4642 as updated by RFC 8143):
// greeting, CAPABILITIES, MODE READER on mode-switching servers, STARTTLS (also tried blindly
// on servers without CAPABILITIES), CAPABILITIES again after TLS, QUIT. Sans-I/O.
#pragma once

#include <string>

#include "otls/proto/nntp/response.hpp"
#include "otls/proto/session_base.hpp"

namespace otls::proto::nntp {

// Where a client session stands (see client_base for the shared states).
enum class client_state {
  greeting,
  capabilities,  // CAPABILITIES sent, before or after TLS
  mode_reader,
  starttls,
  handshaking,
  goodbye,  // QUIT sent
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

  // The CAPABILITIES list of the current phase (empty before one arrived, or from a server
  // that does not implement the command).
  const capability_list& capabilities() const { return caps_; }
  // MODE READER was sent and accepted (a mode-switching server, RFC 3977 §5.3).
  bool switched_to_reader() const { return mode_switched_; }

 private:
  using state = client_state;

  std::string goodbye_command() override { return "QUIT\r\n"; }
  action on_response(const response& r);
  action on_capabilities(const response& r);
  action on_starttls(const response& r);
  action decide();
  action no_upgrade(error_code ec, const response* culprit, std::string detail,
                    std::string warning);

  response_reader responses_;
  bool legacy_ = false;         // CAPABILITIES answered 500/501/480: no list to go by
  bool mode_switched_ = false;  // MODE READER sent once; never again (bounds the dialogue)
  capability_list caps_;
};

}  // namespace otls::proto::nntp
