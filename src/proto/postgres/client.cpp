// PostgreSQL client role through SSLRequest (PostgreSQL docs "SSL Session Encryption";
// CVE-2021-23222, CVE-2024-10977).
#include "otls/proto/postgres/client.hpp"

#include <utility>

#include "otls/core/byte_buffer.hpp"

#include "otls/proto/postgres/message.hpp"

namespace otls::proto::postgres {
namespace {

// One byte is the whole answer; anything beyond it is injected plaintext, kept only so the
// driver can report how much there was. One read's worth is plenty for that.
constexpr std::size_t max_buffered = 64 * 1024;

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
  if (state_ == state::greeting) {
    if (tls_active_) {
      // Direct TLS (PostgreSQL 17): TLS is already up and the probe's job is done.
      state_ = state::finished;
      return action::done();
    }
    state_ = state::reply;
    return action::write(ssl_request());
  }
  if (received_.empty()) {
    if (!eof_) return action::need_more();
    diag_.detail = "the server closed the connection without answering the SSLRequest";
    return fail(errc::unexpected_close, nullptr);
  }
  const auto first = static_cast<unsigned char>(received_.front());
  received_.erase(0, 1);
  return on_reply(first);
}

action client::on_reply(unsigned char first) {
  switch (first) {
    case 'S':
      facts_.starttls_offered = true;
      return go_ahead();  // whatever followed the 'S' stays for take_leftover()
    case 'N':
      diag_.set_peer({"N"});
      diag_.detail =
          "the server answered the SSLRequest with 'N': it does not accept TLS (ssl = off in "
          "postgresql.conf, or built without SSL support)";
      if (options_.require_tls) return fail(errc::starttls_not_supported, nullptr);
      mark_plaintext(
          "the server refused TLS ('N' to the SSLRequest): a session would continue in PLAINTEXT");
      state_ = state::finished;
      return action::done();
    case 'E':
      // CVE-2024-10977: the text arrived before TLS and may be an attacker's; it is not shown.
      diag_.detail =
          "the server answered the SSLRequest with an ErrorResponse (its text is not shown: it "
          "came unauthenticated before TLS); PostgreSQL servers too old for SSLRequest do this";
      return fail(errc::unexpected_reply, nullptr);
    default:
      diag_.detail = "the server answered the SSLRequest with byte " + describe_byte(first) +
                     " instead of 'S' or 'N': not a PostgreSQL server?";
      return fail(errc::malformed_reply, nullptr);
  }
}

void client::on_tls_established() {
  // The upgrade is what a probe checks; after it nothing is asked, so nothing can be reused.
  received_.clear();
  restart_after_tls(state::finished);
}

}  // namespace otls::proto::postgres
