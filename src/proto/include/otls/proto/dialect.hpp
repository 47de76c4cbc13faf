// The sans-I/O dialect model (DESIGN.md): a protocol state machine fed bytes that answers
// with actions; no sockets, no asio, no OpenSSL. One driver in net/ runs every dialect.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "otls/core/error.hpp"

namespace otls::proto {

enum class errc {
  starttls_not_supported = 1,  // the server did not offer the upgrade
  starttls_rejected,           // the server refused the upgrade command
  service_unavailable,         // greeting turned us away (SMTP 421/554)
  unexpected_reply,            // a reply that the protocol does not allow here
  malformed_reply,             // garbage where a reply was expected
  unexpected_close,            // the peer closed before the exchange finished
  too_many_errors,             // server role: the client kept sending bad commands
  preauth_plaintext,           // IMAP PREAUTH on a cleartext connection: no STARTTLS possible
  data_protection_refused,     // FTP: PBSZ/PROT P refused, data would cross in plaintext
  login_failed,                // the server refused the credentials (FTP USER/PASS)
  data_channel_failure,        // FTP: the data connection or the transfer over it failed
};

const boost::system::error_category& category() noexcept;
inline error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), category()};
}

// What the driver must do next.
struct action {
  enum class kind {
    write,      // send `bytes`, then ask again
    need_more,  // read, then feed() or on_eof()
    start_tls,  // take_leftover(), handshake, on_tls_established(), then ask again
    done,       // finished successfully; close
    fail,       // finished with `error`; close (diagnostics() says why)
    // A side connection (FTP's data connection, RFC 959 §3.2): connect to `data_port` on the
    // control connection's peer (`bytes`: the address the server advertised, for the report
    // only), under TLS resuming the control connection's session when `data_tls` (RFC 4217
    // §10.2), and receive from it in the background; on_data_opened(), then ask again.
    open_data,
    // Wait until the server has closed the side connection (bounded); on_data_finished() with
    // what arrived, then ask again.
    finish_data,
  };
  kind what = kind::need_more;
  std::string bytes;
  error_code error;
  std::uint16_t data_port = 0;
  bool data_tls = false;

  static action write(std::string b) { return {kind::write, std::move(b), {}}; }
  static action need_more() { return {kind::need_more, {}, {}}; }
  static action start_tls() { return {kind::start_tls, {}, {}}; }
  static action done() { return {kind::done, {}, {}}; }
  static action fail(error_code ec) { return {kind::fail, {}, ec}; }
  static action open_data(std::uint16_t port, bool tls, std::string advertised) {
    return {kind::open_data, std::move(advertised), {}, port, tls};
  }
  static action finish_data() { return {kind::finish_data, {}, {}}; }
};

// What moved over a side data connection (FTP --data), for the report.
struct data_transfer {
  std::string command;             // "LIST"
  bool protected_by_tls = false;   // PROT P was in force
  std::size_t bytes = 0;           // received
  std::vector<std::string> lines;  // the first lines received (a directory listing)
};

// What a client dialect learned; later layers turn it into reports.
struct session_facts {
  std::vector<std::string> banner;  // greeting lines, codes stripped
  std::vector<std::string> capabilities_before_tls;
  std::vector<std::string> capabilities_after_tls;
  bool starttls_offered = false;
  bool starttls_accepted = false;
  bool ended_in_plaintext = false;    // opportunistic level continued without TLS
  std::vector<std::string> warnings;  // what an opportunistic level let pass, for the report
  std::string logged_in_as;           // a login succeeded inside TLS (FTP --user/--data)
  std::optional<data_transfer> data;  // a transfer over a side connection (FTP --data)
};

class dialect {
 public:
  virtual ~dialect() = default;

  // Received bytes, in order. Dialects buffer with limits of their own.
  virtual void feed(std::string_view bytes) = 0;
  // The peer closed its side.
  virtual void on_eof() = 0;
  // The next action; call until need_more, done or fail.
  virtual action next() = 0;
  // At start_tls: every byte received but not consumed. After this call the dialect holds no
  // pre-TLS input and parses afresh (DESIGN.md rule 1).
  virtual std::string take_leftover() = 0;
  // The handshake completed; pre-TLS knowledge is dropped (rule 2).
  virtual void on_tls_established() = 0;
  // Server role: true when the client starts TLS without waiting for a go-ahead reply, so
  // the bytes after the upgrade request are its ClientHello, not pipelined plaintext (MySQL's
  // SSLRequest). The driver then hands the leftover to the TLS handshake instead of
  // discarding it; nothing of it is ever read as plaintext (rule 1 still holds).
  virtual bool leftover_starts_tls() const { return false; }
  // The driver's answers to open_data and finish_data; only dialects with a side data
  // connection (FTP) ask for one, so the others never hear these.
  virtual void on_data_opened(error_code) {}
  virtual void on_data_finished(error_code, std::string_view /*received*/) {}

  virtual const session_facts& facts() const = 0;
  virtual const diagnostics& diag() const = 0;
};

// Options every client dialect understands.
struct client_options {
  std::string client_name = "localhost";  // EHLO/LHLO name and the like
  std::string server_name;                // the name we asked for (XMPP to=, HTTP Host, ...)
  std::uint16_t server_port = 0;          // the port connected to (HTTP Host); 0: not known
  bool require_tls = true;                // false: continue in plaintext when not offered
  bool implicit_tls = false;              // TLS is already up before the first byte
  // Protocols with a login and a data channel (FTP): log in inside TLS (user empty:
  // anonymous) and, with transfer_data, list a directory over a protected data connection.
  // Credentials never go out in plaintext. Other protocols ignore these.
  bool log_in = false;
  bool transfer_data = false;
  std::string user;
  std::string password;
};

// Options every server dialect understands.
struct server_options {
  std::string hostname = "localhost";  // greeting and EHLO identity
  bool tls_available = true;           // offer the upgrade at all
  bool starttls_required = false;      // refuse most commands until TLS (RFC 3207 §4)
  bool implicit_tls = false;           // TLS came up before the greeting
  unsigned max_errors = 10;            // bad commands tolerated before 421 and close
};

}  // namespace otls::proto

template <>
struct boost::system::is_error_code_enum<otls::proto::errc> : std::true_type {};
