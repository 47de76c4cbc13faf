// LDAP client role through StartTLS (RFC 4511 §4.14, RFC 4513 §3; RFC 4512 §5.1 root DSE;
// ldaps on 636 for implicit TLS): read the root DSE, send the StartTLS ExtendedRequest, read its
// ExtendedResponse, then after the handshake read the root DSE again and unbind. Sans-I/O.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "otls/proto/ldap/message.hpp"
#include "otls/proto/session_base.hpp"

namespace otls::proto::ldap {

// Where a client session stands (see client_base for the shared states).
enum class client_state {
  greeting,  // LDAP has no greeting: the client speaks first
  root_dse,  // the plaintext root DSE search is out
  starttls,  // the StartTLS ExtendedRequest is out
  handshaking,
  root_dse_after_tls,
  goodbye,  // UnbindRequest sent (it has no response, RFC 4511 §4.3)
  goodbye_then_fail,
  finished,
};

// Root DSE attributes read before and after TLS (RFC 4512 §5.1, RFC 3045 vendor attributes).
// Reported as "attribute: value" lines.
const std::vector<std::string>& root_dse_attributes();

class client final : public client_base<client_state> {
 public:
  explicit client(client_options options);

  void feed(std::string_view bytes) override { messages_.feed(bytes); }
  action next() override;
  std::string take_leftover() override { return messages_.take_leftover(); }
  void on_tls_established() override;

 private:
  using state = client_state;

  std::string goodbye_command() override { return encode_unbind(next_id_++); }
  action on_message(const message& m);
  action on_root_dse(const message& m);
  action after_root_dse();
  action on_starttls_response(const ldap_result& r);
  action send_root_dse_search(state then);
  action fail_with(error_code ec, std::string detail, const std::vector<std::string>& peer = {});

  message_reader messages_;
  std::int32_t next_id_ = 1;
  std::int32_t outstanding_id_ = 0;  // the request whose response we wait for
  bool root_dse_answered_ = false;   // an entry arrived for the current root DSE search
  std::vector<std::string> root_dse_lines_;
  // From the plaintext root DSE: whether supportedExtension was there at all, and with the OID.
  bool extensions_listed_ = false;
};

}  // namespace otls::proto::ldap
