// NNTP client role up to and through STARTTLS (RFC 3977, RFC 4642 as updated by RFC 8143):
// greeting, CAPABILITIES, MODE READER on mode-switching servers, STARTTLS (also tried blindly
// on servers without CAPABILITIES), CAPABILITIES again after TLS, QUIT. Sans-I/O.
#pragma once

#include <string>

#include "otls/proto/dialect.hpp"
#include "otls/proto/nntp/response.hpp"

namespace otls::proto::nntp {

class client final : public dialect {
 public:
  explicit client(client_options options);

  void feed(std::string_view bytes) override { responses_.feed(bytes); }
  void on_eof() override { eof_ = true; }
  action next() override;
  std::string take_leftover() override { return responses_.take_leftover(); }
  void on_tls_established() override;

  const session_facts& facts() const override { return facts_; }
  const diagnostics& diag() const override { return diag_; }

  // The CAPABILITIES list of the current phase (empty before one arrived, or from a server
  // that does not implement the command).
  const capability_list& capabilities() const { return caps_; }
  // MODE READER was sent and accepted (a mode-switching server, RFC 3977 §5.3).
  bool switched_to_reader() const { return mode_switched_; }

 private:
  enum class state {
    greeting,
    capabilities,  // CAPABILITIES sent, before or after TLS
    mode_reader,
    starttls,
    handshaking,
    quit,
    quit_then_fail,
    finished,
  };

  action on_response(const response& r);
  action on_capabilities(const response& r);
  action on_starttls(const response& r);
  action decide();
  action no_upgrade(error_code ec, const response* culprit, std::string detail,
                    std::string warning);
  action send(std::string command, state next);
  action quit();
  action quit_and_fail(error_code ec, const response* culprit);
  action fail(error_code ec, const response* culprit);

  client_options options_;
  response_reader responses_;
  state state_ = state::greeting;
  bool tls_active_;
  bool eof_ = false;
  bool legacy_ = false;         // CAPABILITIES answered 500/501/480: no list to go by
  bool mode_switched_ = false;  // MODE READER sent once; never again (bounds the dialogue)
  error_code pending_error_;
  std::string pending_write_;
  capability_list caps_;
  session_facts facts_;
  diagnostics diag_;
};

}  // namespace otls::proto::nntp
