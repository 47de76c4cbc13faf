// XMPP server role with STARTTLS (RFC 6120 §4 streams, §5 STARTTLS), c2s or s2s: a probe and
// demo server without accounts. Stream header with a fresh id, features offering STARTTLS
// (with <required/> when starttls_required), <proceed/>, a new stream after TLS whose features
// offer SASL PLAIN only; every authentication attempt fails.
#pragma once

#include "otls/proto/session_base.hpp"
#include "otls/proto/xmpp/client.hpp"
#include "otls/proto/xmpp/stream.hpp"

namespace otls::proto::xmpp {

// Where a server session stands (see server_base for the shared states).
enum class server_state {
  greet,   // waiting for the client's stream header
  stream,  // our header and features are out; reading the client's elements
  starttls_pending,
  closing,
  finished,
};

class server final : public server_base<server_state> {
 public:
  server(server_options options, variant v = variant::c2s);

  void feed(std::string_view bytes) override { stream_.feed(bytes); }
  action next() override;
  std::string take_leftover() override { return stream_.take_leftover(); }
  void on_tls_established() override;

 private:
  using state = server_state;

  std::string too_many_errors_reply(std::string refusal) const override;

  std::string header() const;
  std::string features() const;
  action on_event(const stream_event& ev);
  action on_element(const element& el);
  // Ends the stream with a stream error (RFC 6120 §4.9), after our header if none went out.
  action stream_error(std::string_view condition, error_code ec, std::string detail);
  action finish(std::string bytes, error_code ec);

  variant variant_;
  stream_reader stream_;
  bool header_sent_ = false;
};

}  // namespace otls::proto::xmpp
