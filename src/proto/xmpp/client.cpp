// XMPP client role through STARTTLS (RFC 6120 §4.7 stream attributes, §4.9 stream errors, §5.4
// STARTTLS negotiation, §5.4.3.3 the stream restart after TLS).
#include "otls/proto/xmpp/client.hpp"

#include <utility>

namespace otls::proto::xmpp {
namespace {

// Stream error conditions (RFC 6120 §4.9.3) that say "this service is not for you now" rather
// than "you spoke wrongly".
bool turned_away(std::string_view condition) {
  for (std::string_view c : {"host-unknown", "host-gone", "system-shutdown", "resource-constraint",
                             "remote-connection-failed", "connection-timeout", "see-other-host",
                             "policy-violation", "not-authorized", "internal-server-error"})
    if (c == condition) return true;
  return false;
}

std::string header_summary(const element& header) {
  std::string out;
  for (const char* key : {"from", "id", "version"}) {
    if (const auto* v = header.attribute(key)) {
      if (!out.empty()) out += " ";
      out += std::string(key) + "=" + *v;
    }
  }
  return out;
}

}  // namespace

std::vector<std::string> describe_features(const element& features) {
  std::vector<std::string> out;
  for (const auto& f : features.children) {
    std::string line = f.name;
    if (f.is(ns_tls, "starttls")) {
      if (f.child(ns_tls, "required")) line += " (required)";
    } else if (!f.children.empty()) {
      // mechanisms, compression methods and the like: list their values.
      std::string values;
      for (const auto& c : f.children) {
        if (c.text.empty()) continue;
        values += " " + c.text.substr(0, 64);
      }
      if (!values.empty()) line += ":" + values;
    }
    out.push_back(std::move(line));
  }
  return out;
}

client::client(client_options options, variant v) : client_base(std::move(options)), variant_(v) {
  pending_write_ = stream_header();
}

std::string client::stream_header() const {
  // RFC 6120 §4.7.2: `to` names the service; s2s leaves out `from`, which an unauthenticated
  // peer could not prove anyway (§4.7.1 allows this before the peer is authenticated).
  return "<?xml version='1.0'?><stream:stream to='" + escape(options_.server_name) +
         "' version='1.0' xmlns='" + std::string(variant_ == variant::c2s ? ns_client : ns_server) +
         "' xmlns:stream='" + std::string(ns_stream) + "'>";
}

action client::next() {
  if (auto a = before_reading()) return std::move(*a);
  // The stream header and stanzas after our goodbye call for no action: read on while input is
  // buffered, so that the driver never waits for bytes it already holds.
  for (;;) {
    auto ev = stream_.next();
    if (!ev) {
      diag_.detail =
          "the server sent something that is not a bounded XMPP stream: " + stream_.error_text();
      return fail(ev.error(), nullptr);
    }
    if (!*ev) break;
    if (auto a = on_event(**ev)) return std::move(*a);
  }
  return out_of_input(stream_.holds_input(), "stream element");
}

std::optional<action> client::on_event(const stream_event& ev) {
  if (ev.what == stream_event::kind::stream_close) {
    if (saying_goodbye()) return goodbye_answered();
    diag_.detail = "the server closed the XMPP stream";
    return fail(errc::unexpected_close, nullptr);
  }
  if (ev.what == stream_event::kind::stream_open) {
    if (state_ != state::greeting || !ev.el.is(ns_stream, "stream")) {
      diag_.set_peer({ev.el.to_xml()});
      diag_.detail =
          "the server's stream header is not <stream:stream> in " + std::string(ns_stream);
      return fail(errc::malformed_reply, nullptr);
    }
    if (!tls_active_ || facts_.banner.empty()) facts_.banner = {header_summary(ev.el)};
    const auto* version = ev.el.attribute("version");
    if (!version || version->empty() || version->front() < '1') {
      // RFC 6120 §4.7.5: no version means a pre-XMPP-1.0 server, which has no stream features.
      diag_.set_peer({header_summary(ev.el)});
      diag_.detail = "the server's stream has no version='1.0': no stream features, no STARTTLS";
      if (tls_active_) return goodbye();
      if (options_.require_tls) return goodbye_and_fail(errc::starttls_not_supported, nullptr);
      return continue_in_plaintext(
          "the server speaks pre-1.0 XMPP (no STARTTLS): the session continued in PLAINTEXT");
    }
    state_ = state::features;
    return std::nullopt;
  }

  const element& el = ev.el;
  if (el.is(ns_stream, "error")) return on_stream_error(el);
  switch (state_) {
    case state::features:
      if (el.is(ns_stream, "features")) return on_features(el);
      break;
    case state::starttls:
      if (el.is(ns_tls, "proceed")) return go_ahead();
      if (el.is(ns_tls, "failure")) {
        // RFC 6120 §5.4.2.2: the server closes the stream and the TCP connection after this.
        diag_.set_peer({el.to_xml()});
        diag_.detail = "the server answered <starttls/> with <failure/>";
        if (options_.require_tls) return fail(errc::starttls_rejected, nullptr);
        mark_plaintext("STARTTLS refused by the server (<failure/>): no TLS on this stream");
        state_ = state::finished;
        return action::done();
      }
      break;
    case state::goodbye:
    case state::goodbye_then_fail:
      return std::nullopt;  // stanzas still in flight before the server's close
    default:
      break;
  }
  diag_.set_peer({el.to_xml()});
  diag_.detail = "unexpected element from the server at this point of the stream";
  return fail(errc::unexpected_reply, nullptr);
}

action client::on_features(const element& features) {
  record_capabilities(describe_features(features));
  if (tls_active_) return goodbye();  // rule 2: these are the post-TLS features, read afresh
  const element* starttls = features.child(ns_tls, "starttls");
  facts_.starttls_offered = starttls != nullptr;
  if (starttls) {
    state_ = state::starttls;
    return action::write("<starttls xmlns='" + std::string(ns_tls) + "'/>");
  }
  diag_.detail = "the server's stream features do not offer STARTTLS";
  if (options_.require_tls) return goodbye_and_fail(errc::starttls_not_supported, nullptr);
  return continue_in_plaintext(
      "STARTTLS is not in the server's stream features: the session continued in PLAINTEXT");
}

action client::on_stream_error(const element& error) {
  // RFC 6120 §4.9.2: one condition element in the streams namespace, optionally <text/>. The
  // server closes the stream right after it, so the error is reported now, by name (a client
  // that waited for features here would only time out).
  std::string condition = "undefined-condition";
  std::string text;
  for (const auto& c : error.children) {
    if (c.ns != ns_stream_errors) continue;
    if (c.name == "text")
      text = c.text;
    else
      condition = c.name;
  }
  diag_.set_peer({"stream:error " + condition + (text.empty() ? "" : ": " + text)});
  diag_.detail = "the server ended the stream with the error <" + condition + "/>";
  if (condition == "host-unknown")
    diag_.detail +=
        ": it does not serve the domain '" + options_.server_name + "' (set it with --xmpp-domain)";
  return fail(turned_away(condition) ? errc::service_unavailable : errc::unexpected_reply, nullptr);
}

void client::on_tls_established() {
  // RFC 6120 §5.4.3.3: a new stream over TLS; nothing from the old one is kept (rule 2).
  stream_ = stream_reader{};
  restart_after_tls(state::greeting, stream_header());
}

}  // namespace otls::proto::xmpp
