// MySQL/MariaDB server role for the SSLRequest (MySQL "Client/Server Protocol": Connection Phase).
#include "otls/proto/mysql/server.hpp"

#include <utility>

#include "otls/core/byte_buffer.hpp"

namespace otls::proto::mysql {
namespace {

constexpr std::size_t max_buffered = 2 * max_client_packet;
constexpr std::uint32_t base_capabilities = client_long_password | client_connect_with_db |
                                            client_protocol_41 | client_transactions |
                                            client_secure_connection | client_plugin_auth;
// ER_BAD_DB_ERROR with SQLSTATE 42000: the honest answer of a server without databases.
constexpr std::uint16_t no_database_code = 1049;
constexpr std::string_view no_database_text = "otls test server: no database here";

}  // namespace

server::server(server_options options) : server_base(std::move(options)) {}

void server::feed(std::string_view bytes) {
  if (!core::append_bounded(received_, bytes, max_buffered)) overflow_ = true;
}

std::string server::take_leftover() {
  return std::exchange(received_, {});
}

action server::next() {
  if (state_ == state::greet) {
    state_ = state::request;
    if (tls_active_)  // no implicit-TLS MySQL port exists; greet without the offer anyway
      return action::write(frame(0, handshake_payload("8.0.0-otls", base_capabilities)));
    const std::uint32_t caps = base_capabilities | (options_.tls_available ? client_ssl : 0);
    return action::write(frame(0, handshake_payload("8.0.0-otls", caps)));
  }
  if (state_ == state::closing || state_ == state::finished) return ended();
  if (state_ == state::starttls_pending) {
    if (eof_) return close_silently(errc::unexpected_close, "the client left before TLS");
    return action::start_tls();
  }
  auto p = read_packet(received_, max_client_packet);
  if (!p) return close_silently(errc::malformed_reply, "the client sent an oversized packet");
  if (*p) return on_packet(**p);
  if (overflow_) return close_silently(errc::malformed_reply, "too much input from the client");
  if (!eof_) return action::need_more();
  if (!received_.empty())
    return close_silently(errc::unexpected_close, "the client closed mid-packet");
  return close_silently({}, {});
}

action server::on_packet(const packet& p) {
  // Protocol::SSLRequest: exactly 32 bytes with CLIENT_SSL set, answering our handshake (seq 1).
  const bool ssl_request = p.payload.size() == 32 && p.sequence == 1 &&
                           (static_cast<unsigned char>(p.payload[1]) & (client_ssl >> 8)) != 0;
  if (ssl_request) {
    if (tls_active_ || !options_.tls_available)
      return close_silently(errc::unexpected_reply,
                            tls_active_ ? "the client asked for SSL again inside TLS"
                                        : "the client asked for SSL, which was not offered");
    facts_.starttls_offered = facts_.starttls_accepted = true;
    // No reply: TLS starts right away; bytes pipelined behind the request are discarded.
    state_ = state::starttls_pending;
    return action::start_tls();
  }
  if (p.payload.size() < 32)
    return close_silently(errc::malformed_reply, "the client sent no HandshakeResponse");
  // A HandshakeResponse (inside TLS, or in plaintext from a client that skipped SSL).
  close_error_ = {};
  state_ = state::closing;
  return action::write(frame(static_cast<std::uint8_t>(p.sequence + 1),
                             err_payload(no_database_code, "42000", no_database_text)));
}

void server::on_tls_established() {
  // A fresh start inside TLS: nothing read before the handshake is used (rule 1).
  tls_active_ = true;
  received_.clear();
  overflow_ = false;
  state_ = state::request;
}

}  // namespace otls::proto::mysql
