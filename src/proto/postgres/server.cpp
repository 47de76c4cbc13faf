// PostgreSQL server role for SSLRequest (PostgreSQL docs "SSL Session Encryption"; CVE-2021-23214).
#include "otls/proto/postgres/server.hpp"

#include <utility>

#include "otls/core/byte_buffer.hpp"
#include "otls/proto/postgres/message.hpp"

namespace otls::proto::postgres {
namespace {

// One startup packet plus what a client may pipeline behind it; the rest is not kept.
constexpr std::size_t max_buffered = 2 * max_startup_packet;

// SQLSTATE 3D000 invalid_catalog_name: the honest answer of a server without databases.
constexpr std::string_view no_database_state = "3D000";
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
  if (state_ == state::closing || state_ == state::finished) return ended();
  if (state_ == state::starttls_pending) {
    // Only an in-memory pump can get here after a close; a driver handshakes at once.
    if (eof_) return close_silently(errc::unexpected_close, "the client left before TLS");
    return action::start_tls();
  }
  bool bad_length = false;
  auto packet = read_startup_packet(received_, bad_length);
  if (bad_length)
    return close_silently(errc::malformed_reply,
                          "the client sent a startup packet with an impossible length");
  if (packet) return on_packet(packet->code, packet->body.size());
  if (overflow_) return close_silently(errc::malformed_reply, "too much input from the client");
  if (!eof_) return action::need_more();
  if (!received_.empty())
    return close_silently(errc::unexpected_close, "the client closed mid-packet");
  state_ = state::finished;
  return action::done();
}

action server::on_packet(std::uint32_t code, std::size_t body_size) {
  const bool is_startup = (code >> 16) == 3;  // protocol 3.x; minor versions are negotiable
  if (state_ == state::greet) {
    if (code == ssl_request_code && body_size == 0) {
      if (!options_.tls_available) {
        // 'N': the client may go on in plaintext; its StartupMessage gets the error reply.
        state_ = state::startup;
        return action::write("N");
      }
      facts_.starttls_offered = facts_.starttls_accepted = true;
      // Rule 3: 'S' goes out first; whatever followed the request is discarded by the driver.
      state_ = state::starttls_pending;
      return action::write("S");
    }
    if (code == gssenc_request_code && body_size == 0 && !gssenc_answered_) {
      // No GSSAPI encryption here; libpq then tries SSLRequest on the same connection.
      gssenc_answered_ = true;
      return action::write("N");
    }
    if (code == cancel_request_code)
      return close_silently({}, "a CancelRequest: there is nothing to cancel");
    if (!is_startup)
      return close_silently(errc::malformed_reply,
                            "the client sent an unknown startup-phase request");
    // Plaintext sessions are for a server without TLS only; one with TLS never answers them.
    if (options_.tls_available)
      return close_silently(errc::unexpected_reply,
                            "the client sent a StartupMessage without asking for TLS first");
    state_ = state::startup;
  }
  if (state_ == state::startup && is_startup) {
    close_error_ = {};
    state_ = state::closing;
    return action::write(error_response(no_database_state, no_database_text));
  }
  return close_silently(errc::unexpected_reply,
                        tls_active_ ? "the client sent no StartupMessage inside TLS"
                                    : "the client sent no StartupMessage after 'N'");
}

void server::on_tls_established() {
  // A fresh start inside TLS: nothing read before the handshake is used (rule 1).
  tls_active_ = true;
  received_.clear();
  overflow_ = false;
  state_ = state::startup;
}

}  // namespace otls::proto::postgres
