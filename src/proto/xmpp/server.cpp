// XMPP server role with STARTTLS (RFC 6120 §4.7 stream header, §4.9 stream errors, §5.3.1
// mandatory-to-negotiate, §5.4.2 proceed/failure, §6.4 SASL failure conditions).
#include "otls/proto/xmpp/server.hpp"

#include <random>
#include <utility>

namespace otls::proto::xmpp {
namespace {

// RFC 6120 §4.7.3: the stream id should be unpredictable; 128 bits of randomness in hex.
std::string fresh_stream_id() {
  std::random_device rd;
  std::string id;
  constexpr char hex[] = "0123456789abcdef";
  for (int i = 0; i < 4; ++i) {
    const unsigned word = rd();
    for (int j = 0; j < 8; ++j) id += hex[(word >> (4 * j)) & 0xf];
  }
  return id;
}

std::string tls_element(std::string_view name) {
  return "<" + std::string(name) + " xmlns='" + std::string(ns_tls) + "'/>";
}

}  // namespace

server::server(server_options options, variant v) : server_base(std::move(options)), variant_(v) {}

std::string server::too_many_errors_reply(std::string) const {
  return "<stream:error><policy-violation xmlns='" + std::string(ns_stream_errors) +
         "'/></stream:error></stream:stream>";
}

std::string server::header() const {
  // RFC 6120 §4.7.1: the response header carries `from` (our domain), a fresh `id` and the
  // version; a probe server answers to any `to`.
  return "<?xml version='1.0'?><stream:stream xmlns='" +
         std::string(variant_ == variant::c2s ? ns_client : ns_server) + "' xmlns:stream='" +
         std::string(ns_stream) + "' id='" + fresh_stream_id() + "' from='" +
         escape(options_.hostname) + "' version='1.0'>";
}

std::string server::features() const {
  std::string out = "<stream:features>";
  // RFC 6120 §5.3.1: STARTTLS only before TLS; <required/> when nothing else may happen first.
  if (options_.tls_available && !tls_active_) {
    out += "<starttls xmlns='" + std::string(ns_tls) + "'>";
    if (options_.starttls_required) out += "<required/>";
    out += "</starttls>";
  }
  // RFC 6120 §6.4.1 with RFC 2595 §6's reasoning: PLAIN only where it cannot be sniffed.
  if (tls_active_ || !options_.starttls_required)
    out += "<mechanisms xmlns='" + std::string(ns_sasl) + "'>" +
           (tls_active_ ? "<mechanism>PLAIN</mechanism>" : "") + "</mechanisms>";
  return out + "</stream:features>";
}

action server::finish(std::string bytes, error_code ec) {
  close_error_ = ec;
  state_ = state::closing;
  return action::write(std::move(bytes));
}

action server::stream_error(std::string_view condition, error_code ec, std::string detail) {
  diag_.detail = std::move(detail);
  std::string out = header_sent_ ? std::string() : header();
  header_sent_ = true;
  out += "<stream:error><" + std::string(condition) + " xmlns='" + std::string(ns_stream_errors) +
         "'/></stream:error></stream:stream>";
  return finish(std::move(out), ec);
}

action server::next() {
  if (state_ == state::starttls_pending) return action::start_tls();
  if (state_ == state::closing || state_ == state::finished) return ended();
  auto ev = stream_.next();
  if (!ev) {
    return stream_error(
        "not-well-formed", ev.error(),
        "the client sent no well-formed, bounded XMPP stream: " + stream_.error_text());
  }
  if (*ev) return on_event(**ev);
  if (!eof_) return action::need_more();
  state_ = state::finished;
  if (stream_.holds_input()) {
    diag_.detail = "the client closed the connection in the middle of an element";
    return action::fail(close_error_ = errc::unexpected_close);
  }
  return action::done();
}

action server::on_event(const stream_event& ev) {
  switch (ev.what) {
    case stream_event::kind::stream_open:
      if (!ev.el.is(ns_stream, "stream"))
        return stream_error(
            "invalid-namespace", errc::unexpected_reply,
            "the client's stream header is not <stream:stream> in " + std::string(ns_stream));
      state_ = state::stream;
      header_sent_ = true;
      return action::write(header() + features());
    case stream_event::kind::stream_close:
      // RFC 6120 §4.4: answer the close with ours, then the session ends.
      return finish("</stream:stream>", {});
    case stream_event::kind::element:
      return on_element(ev.el);
  }
  return finish("</stream:stream>", errc::unexpected_reply);
}

action server::on_element(const element& el) {
  if (el.is(ns_tls, "starttls")) {
    if (tls_active_ || !options_.tls_available) {
      // RFC 6120 §5.4.2.2: <failure/>, then the stream and the connection close.
      diag_.detail = tls_active_ ? "the client asked for STARTTLS inside TLS"
                                 : "the client asked for STARTTLS, which is not available";
      return finish(tls_element("failure") + "</stream:stream>",
                    tls_active_ ? error_code(errc::unexpected_reply) : error_code());
    }
    // Rule 3: <proceed/> goes out first; the driver then upgrades and discards whatever the
    // client pipelined behind <starttls/>. No whitespace follows it: to a client, any byte
    // after <proceed/> would be a response injection.
    state_ = state::starttls_pending;
    return action::write(tls_element("proceed"));
  }
  if (!tls_active_ && options_.starttls_required)
    return stream_error(
        "policy-violation", errc::unexpected_reply,
        "the client sent <" + el.name + "/> before the required STARTTLS (RFC 6120 §5.3.1)");
  if (el.is(ns_sasl, "auth")) {
    if (++errors_ >= options_.max_errors) {
      diag_.detail = "too many errors from the client";
      return finish(too_many_errors_reply({}), errc::too_many_errors);
    }
    // No accounts here: every attempt fails (RFC 6120 §6.4.5), the stream stays open.
    return action::write("<failure xmlns='" + std::string(ns_sasl) +
                         "'><not-authorized/></failure>");
  }
  return stream_error("unsupported-stanza-type", errc::unexpected_reply,
                      "the client sent <" + el.name + "/>, which this server does not handle");
}

std::unique_ptr<dialect> make_s2s_client(const client_options& options) {
  return std::make_unique<client>(options, variant::s2s);
}
std::unique_ptr<dialect> make_s2s_server(const server_options& options) {
  return std::make_unique<server>(options, variant::s2s);
}

void server::on_tls_established() {
  // RFC 6120 §5.4.3.3: the client opens a new stream over TLS; nothing read before it counts.
  tls_active_ = true;
  stream_ = stream_reader{};
  header_sent_ = false;
  state_ = state::greet;
}

}  // namespace otls::proto::xmpp
