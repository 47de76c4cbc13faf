// XMPP client role up to and through STARTTLS (RFC 6120 §4 streams, §5 STARTTLS), client-to-
// server (jabber:client) or server-to-server (jabber:server), or on implicit TLS (XEP-0368):
// stream header, features, <starttls/>, <proceed/>, a fresh stream and its features. Sans-I/O.
#pragma once

#include <memory>
#include <optional>

#include "otls/proto/session_base.hpp"
#include "otls/proto/xmpp/stream.hpp"

namespace otls::proto::xmpp {

// Which stream: client-to-server (c2s, port 5222) or server-to-server (s2s, port 5269).
enum class variant { c2s, s2s };

// Where a client session stands (see client_base for the shared states).
enum class client_state {
  greeting,  // our stream header is out; waiting for the server's
  features,  // waiting for <stream:features>
  starttls,  // <starttls/> sent; waiting for <proceed/> or <failure/>
  handshaking,
  goodbye,  // </stream:stream> sent
  goodbye_then_fail,
  finished,
};

class client final : public client_base<client_state> {
 public:
  client(client_options options, variant v = variant::c2s);

  void feed(std::string_view bytes) override { stream_.feed(bytes); }
  action next() override;
  std::string take_leftover() override { return stream_.take_leftover(); }
  void on_tls_established() override;

 private:
  using state = client_state;

  std::string goodbye_command() override { return "</stream:stream>"; }
  std::string stream_header() const;
  // nullopt: nothing to do, read the next event.
  std::optional<action> on_event(const stream_event& ev);
  action on_features(const element& features);
  action on_stream_error(const element& error);

  variant variant_;
  stream_reader stream_;
};

// The features' children as the report lists them: "starttls (required)", "mechanisms: PLAIN
// SCRAM-SHA-1", "bind", "dialback", ...
std::vector<std::string> describe_features(const element& features);

// Registry factories for the server-to-server stream (xmpp-server://).
std::unique_ptr<dialect> make_s2s_client(const client_options& options);
std::unique_ptr<dialect> make_s2s_server(const server_options& options);

}  // namespace otls::proto::xmpp
