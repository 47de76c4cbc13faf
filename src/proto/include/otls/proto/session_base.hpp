// What every sans-I/O dialect role shares (DESIGN.md "Dialects are sans-I/O"): the facts and
// diagnostics it reports, how a client ends (fail, or say goodbye and then fail) and how a server
// closes and counts bad commands. Each protocol keeps its wording and its state machine.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "otls/proto/dialect.hpp"

namespace otls::proto {

// Base of a client role. `State` is the protocol's state enum; besides its own states it names
//   greeting           the first state, waiting for the server's greeting,
//   handshaking        the go-ahead was read: start_tls until on_tls_established(),
//   goodbye            our QUIT/LOGOUT is out; its answer or a close ends the session well,
//   goodbye_then_fail  the same, after which the held error is reported,
//   finished           the session is over; next() repeats how it ended.
template <class State>
class client_base : public dialect {
 public:
  void on_eof() final { eof_ = true; }
  const session_facts& facts() const final { return facts_; }
  const diagnostics& diag() const final { return diag_; }

 protected:
  explicit client_base(client_options options)
      : options_(std::move(options)), tls_active_(options_.implicit_tls) {}

  // The protocol's goodbye command, CRLF included ("QUIT\r\n"; IMAP tags its LOGOUT).
  virtual std::string goodbye_command() = 0;

  // Ends the session with `ec` (a named error, DESIGN.md rule 4); the culprit's own words go
  // to the report.
  template <class Reply>
  action fail(error_code ec, const Reply* culprit) {
    if (culprit) diag_.set_peer(culprit->as_peer_text());
    return fail(ec, nullptr);
  }
  action fail(error_code ec, std::nullptr_t) {
    state_ = State::finished;
    pending_error_ = ec;
    return action::fail(ec);
  }

  // Polite refusal: say goodbye so the server can log a clean end, then report `ec` after its
  // answer or its close.
  template <class Reply>
  action goodbye_and_fail(error_code ec, const Reply* culprit) {
    if (culprit) diag_.set_peer(culprit->as_peer_text());
    return goodbye_and_fail(ec, nullptr);
  }
  action goodbye_and_fail(error_code ec, std::nullptr_t) {
    pending_error_ = ec;
    return goodbye(State::goodbye_then_fail);
  }

  // The server said go ahead: start_tls now and read no further, so that any byte behind the
  // go-ahead stays for take_leftover() (DESIGN.md rule 1).
  action go_ahead() {
    facts_.starttls_accepted = true;
    state_ = State::handshaking;
    return action::start_tls();
  }

  // The handshake is done: continue in `then`, sending `first_command` (if any) before reading.
  // The protocol drops its parser and what it learned in plaintext itself (rule 2).
  void restart_after_tls(State then, std::string first_command = {}) {
    tls_active_ = true;
    state_ = then;
    pending_write_ = std::move(first_command);
  }

  // A command line (CRLF added here) goes out; the session continues in `next`.
  action send_line(std::string command, State next) {
    state_ = next;
    return action::write(std::move(command) + "\r\n");
  }

  // A well-ended session: say goodbye, then done.
  action goodbye(State then = State::goodbye) {
    state_ = then;
    return action::write(goodbye_command());
  }

  // Opportunistic level only (DESIGN.md rule 4): the session went on without TLS, the facts say
  // so (with `warning` for the report, when given), and it ends politely.
  action continue_in_plaintext(std::string warning = {}) {
    mark_plaintext(std::move(warning));
    return goodbye();
  }
  void mark_plaintext(std::string warning) {
    facts_.ended_in_plaintext = true;
    if (!warning.empty()) facts_.warnings.push_back(std::move(warning));
  }

  // The capability list of the current phase, for the report; before TLS and after it are kept
  // apart because pre-TLS answers are never reused (rule 2).
  void record_capabilities(const std::vector<std::string>& caps) {
    (tls_active_ ? facts_.capabilities_after_tls : facts_.capabilities_before_tls) = caps;
  }

  // What next() answers before it reads: how the session ended, the handshake the go-ahead
  // asked for, or the command on_tls_established() queued. nullopt: read on.
  std::optional<action> before_reading() {
    if (state_ == State::finished)
      return pending_error_ ? action::fail(pending_error_) : action::done();
    if (state_ == State::handshaking) return action::start_tls();
    if (!pending_write_.empty()) return action::write(std::exchange(pending_write_, {}));
    return std::nullopt;
  }

  // Whether the session is only waiting for the answer to its goodbye.
  bool saying_goodbye() const {
    return state_ == State::goodbye || state_ == State::goodbye_then_fail;
  }
  // The server answered our goodbye (whatever it said): the session ends as planned.
  action goodbye_answered() {
    if (state_ == State::goodbye_then_fail) return fail(pending_error_, nullptr);
    state_ = State::finished;
    return action::done();
  }

  // No complete reply is buffered: read more, or the server closed. After our goodbye a close
  // is the expected end; anywhere else it is a failure. `unit` names what was cut ("reply").
  action out_of_input(bool mid_reply, std::string_view unit = "response") {
    if (!eof_) return action::need_more();
    if (saying_goodbye()) return goodbye_answered();
    diag_.detail = mid_reply
                       ? "the server closed the connection in the middle of a " + std::string(unit)
                       : std::string("the server closed the connection");
    return fail(errc::unexpected_close, nullptr);
  }

  client_options options_;
  State state_ = State::greeting;
  bool tls_active_;
  bool eof_ = false;
  error_code pending_error_;   // reported once the session ends
  std::string pending_write_;  // the first command inside TLS, queued by on_tls_established()
  session_facts facts_;
  diagnostics diag_;
};

// Base of a server role. `State` is the protocol's state enum; besides its own states it names
//   greet             the first state: the greeting is due,
//   starttls_pending  the go-ahead is out: start_tls until on_tls_established(),
//   closing           the last reply is out; the session ends next, with the held error if any,
//   finished          the session is over; next() repeats how it ended.
template <class State>
class server_base : public dialect {
 public:
  void on_eof() final { eof_ = true; }
  const session_facts& facts() const final { return facts_; }
  const diagnostics& diag() const final { return diag_; }

  bool tls_active() const { return tls_active_; }

 protected:
  explicit server_base(server_options options)
      : options_(std::move(options)), tls_active_(options_.implicit_tls) {}

  // The reply that ends the session when a client reaches options.max_errors, given the
  // refusal it earned (CRLF included); the protocol's "closing" line, without its last CRLF.
  virtual std::string too_many_errors_reply(std::string refusal) const = 0;

  // The last reply: `text` (one or more lines; the last CRLF is added here) goes out, then the
  // session ends with `ec`, or cleanly without one.
  action close_with(std::string text, error_code ec) {
    close_error_ = ec;
    state_ = State::closing;
    return action::write(std::move(text) + "\r\n");
  }

  // The go-ahead for the upgrade (`text`, CRLF added here) goes out first; the handshake
  // follows, and whatever the client pipelined behind the command is discarded (rule 3).
  action go_ahead(std::string text) {
    state_ = State::starttls_pending;
    return action::write(std::move(text) + "\r\n");
  }

  // A refusal (one line, CRLF added here) counted against options.max_errors (rule 5): the one
  // that reaches the limit gets the protocol's closing line instead, and the connection closes.
  action error_reply(std::string text) {
    std::string refusal = std::move(text) + "\r\n";
    if (++errors_ >= options_.max_errors) {
      diag_.detail = "too many errors from the client";
      return close_with(too_many_errors_reply(std::move(refusal)), errc::too_many_errors);
    }
    return action::write(std::move(refusal));
  }

  // What next() answers before it reads a command: the greeting (then `reading` is the
  // state), the handshake the go-ahead asked for, or how the session ended. nullopt: read on.
  template <class MakeGreeting>
  std::optional<action> before_reading(State reading, MakeGreeting make_greeting) {
    if (state_ == State::greet) {
      state_ = reading;
      return action::write(make_greeting());
    }
    if (state_ == State::starttls_pending) return action::start_tls();
    if (state_ == State::closing || state_ == State::finished) return ended();
    return std::nullopt;
  }

  // Ends the session without a last reply (binary protocols just close): `detail` says why,
  // and the session ends with `ec`, or cleanly without one.
  action close_silently(error_code ec, std::string detail) {
    diag_.detail = std::move(detail);
    state_ = State::finished;
    close_error_ = ec;
    return ec ? action::fail(ec) : action::done();
  }

  // closing/finished: the session is over, with the error it closed with, if any.
  action ended() {
    state_ = State::finished;
    return close_error_ ? action::fail(close_error_) : action::done();
  }

  // No complete command is buffered: read more, or the client closed, which fails the session
  // when it closed in the middle of a command.
  action out_of_input(bool mid_command) {
    if (!eof_) return action::need_more();
    state_ = State::finished;
    if (mid_command) {
      diag_.detail = "the client closed the connection mid-command";
      return action::fail(close_error_ = errc::unexpected_close);
    }
    return action::done();
  }

  server_options options_;
  State state_ = State::greet;
  bool tls_active_;
  bool eof_ = false;
  unsigned errors_ = 0;
  error_code close_error_;
  session_facts facts_;
  diagnostics diag_;
};

}  // namespace otls::proto
