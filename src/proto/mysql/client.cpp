// MySQL/MariaDB client role through the SSLRequest (MySQL "Client/Server Protocol": Connection
// Phase, Protocol::HandshakeV10, Protocol::SSLRequest).
#include "otls/proto/mysql/client.hpp"

#include <utility>

#include "otls/core/byte_buffer.hpp"

namespace otls::proto::mysql {
namespace {

// The handshake packet and whatever an injector put behind it (reported, then refused).
constexpr std::size_t max_buffered = max_handshake_packet + 64 * 1024;

}  // namespace

client::client(client_options options) : client_base(std::move(options)) {}

void client::feed(std::string_view bytes) {
  core::append_bounded(received_, bytes, max_buffered);
}

std::string client::take_leftover() {
  return std::exchange(received_, {});
}

action client::next() {
  if (auto a = before_reading()) return std::move(*a);
  if (state_ == state::ssl_request_sent) return go_ahead();  // leftover is checked by the driver
  if (tls_active_) {
    // TLS from the first byte is not a MySQL mode; nothing to read.
    state_ = state::finished;
    return action::done();
  }
  auto p = read_packet(received_, max_handshake_packet);
  if (!p) {
    diag_.detail = "the server's first packet is longer than " +
                   std::to_string(max_handshake_packet) + " bytes: not a MySQL handshake";
    return fail(errc::malformed_reply, nullptr);
  }
  if (*p) return on_first_packet(**p);
  if (!eof_) return action::need_more();
  diag_.detail = received_.empty()
                     ? "the server closed the connection before its handshake packet"
                     : "the server closed the connection in the middle of its handshake packet";
  return fail(errc::unexpected_close, nullptr);
}

action client::on_first_packet(const packet& p) {
  if (!p.payload.empty() && static_cast<unsigned char>(p.payload[0]) == 0xff) {
    // "Host ... is not allowed to connect", "Too many connections": turned away at once.
    if (auto err = parse_err(p.payload))
      diag_.set_peer({std::to_string(err->code) + " " + err->message});
    diag_.detail = "the server refused the connection with an error packet instead of a handshake";
    return fail(errc::service_unavailable, nullptr);
  }
  auto h = parse_handshake(p.payload);
  if (!h || p.sequence != 0) {
    diag_.detail = "the server's first packet is not a MySQL initial handshake";
    return fail(errc::malformed_reply, nullptr);
  }
  if (h->protocol_version != 10) {
    diag_.set_peer({h->server_version});
    diag_.detail = "the server speaks handshake protocol version " +
                   std::to_string(h->protocol_version) + "; otls speaks version 10 (MySQL 3.21+)";
    return fail(errc::unexpected_reply, nullptr);
  }
  facts_.banner = {h->server_version};
  record_capabilities(capability_names(h->capabilities));
  if (!h->auth_plugin.empty()) facts_.capabilities_before_tls.push_back("auth=" + h->auth_plugin);
  handshake_ = std::move(h);
  facts_.starttls_offered = (handshake_->capabilities & client_ssl) != 0;
  const bool speaks_41 = (handshake_->capabilities & client_protocol_41) != 0;
  if (!facts_.starttls_offered || !speaks_41) {
    diag_.detail =
        facts_.starttls_offered
            ? "the server offers SSL only with the pre-4.1 protocol, which otls does not "
              "speak"
            : "the server does not offer SSL (no CLIENT_SSL capability: started without "
              "a certificate, or with skip-ssl)";
    if (options_.require_tls) return fail(errc::starttls_not_supported, nullptr);
    mark_plaintext("the server does not offer SSL: a session would continue in PLAINTEXT");
    state_ = state::finished;
    return action::done();
  }
  // Sequence id 1: the SSLRequest answers the handshake packet (sequence 0).
  state_ = state::ssl_request_sent;
  return action::write(frame(1, ssl_request_payload(client_ssl_request_flags)));
}

void client::on_tls_established() {
  // The upgrade is what a probe checks; nothing from before TLS is asked about again.
  received_.clear();
  handshake_.reset();
  restart_after_tls(state::finished);
}

}  // namespace otls::proto::mysql
