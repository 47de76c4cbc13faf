// FTP client role through AUTH TLS (RFC 959 §4-5, RFC 4217 §4-10, RFC 2389, RFC 2428).
#include "otls/proto/ftp/client.hpp"

#include <utility>

namespace otls::proto::ftp {
namespace {

// Preliminary replies tolerated where a final one is due (RFC 959 §4.2: 120 before 220).
constexpr unsigned max_preliminary_replies = 8;
// Lines of a data transfer kept for the report.
constexpr std::size_t max_reported_lines = 64;
// RFC 1635 §2 asks anonymous users for their mail address as the password.
constexpr std::string_view anonymous_password = "otls@";

// A reply's lines without their codes, for the banner.
std::vector<std::string> texts(const reply& r) {
  std::vector<std::string> out;
  for (const auto& line : r.lines) {
    const auto code = reply_code(line);
    out.push_back(code && *code == r.code ? (line.size() > 4 ? line.substr(4) : "") : line);
  }
  return out;
}

std::vector<std::string> first_lines(std::string_view data) {
  std::vector<std::string> out;
  while (!data.empty() && out.size() < max_reported_lines) {
    const auto end = data.find('\n');
    std::string_view line = data.substr(0, end);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    out.emplace_back(line);
    data = end == std::string_view::npos ? std::string_view{} : data.substr(end + 1);
  }
  return out;
}

}  // namespace

client::client(client_options options) : client_base(std::move(options)) {}

action client::next() {
  if (auto early = before_reading()) return std::move(*early);
  if (state_ == state::data_opening || state_ == state::transfer) {
    if (!std::exchange(data_reported_, false)) {
      // The driver must answer open_data/finish_data before asking again.
      diag_.detail = "the driver did not report on the data connection";
      return fail(errc::data_channel_failure, nullptr);
    }
    if (data_error_) {
      diag_.detail =
          std::string(state_ == state::data_opening ? "the data connection could not be opened: "
                                                    : "the data connection failed: ") +
          data_error_.message();
      return goodbye_and_fail(errc::data_channel_failure, nullptr);
    }
    if (state_ == state::data_opening) return send_line("LIST", state::list);
    if (list_final_seen_) return goodbye();
    state_ = state::list_done;
  }
  auto r = replies_.next();
  if (!r) {
    diag_.detail = r.error().message();
    return fail(r.error(), nullptr);
  }
  if (!*r) return out_of_input(replies_.mid_reply(), "reply");
  return on_reply(**r);
}

action client::on_reply(const reply& r) {
  if (saying_goodbye()) return goodbye_answered();
  switch (state_) {
    case state::greeting:
      return on_greeting(r);
    case state::features:
      return on_features(r);
    case state::auth:
      return on_auth(r);
    case state::pbsz:
    case state::prot:
      return on_protection(r);
    case state::user:
    case state::pass:
      return on_login(r);
    case state::epsv:
    case state::pasv:
      return on_passive(r);
    case state::list:
    case state::list_done:
      return on_list(r);
    default:
      diag_.detail = "a reply arrived while none was due";
      return fail(errc::unexpected_reply, &r);
  }
}

action client::on_greeting(const reply& r) {
  if (r.klass() == 1 && ++preliminary_replies_ <= max_preliminary_replies) return next();
  if (r.code == 220) {
    facts_.banner = texts(r);
    return send_line("FEAT", state::features);
  }
  if (r.code == 421) {
    diag_.detail = "the server refused service in its greeting (421)";
    return fail(errc::service_unavailable, &r);
  }
  diag_.detail = "the greeting was not 220 (RFC 959 §5.4)";
  return fail(errc::unexpected_reply, &r);
}

action client::on_features(const reply& r) {
  // 211 carries the list; a server without FEAT answers 500/502 (RFC 2389 §3.2) and is tried
  // all the same: FEAT is informative only (RFC 4217 §6).
  features_ = r.code == 211 ? feature_list::from_reply(r) : feature_list{};
  record_capabilities(features_.lines);
  if (tls_active_) return send_line("PBSZ 0", state::pbsz);
  facts_.starttls_offered = features_.offers_auth_tls();
  // AUTH TLS is sent whether or not FEAT lists it, as curl does: a server that does not list
  // it may still accept it, and a stripped FEAT alone then protects nothing for the meddler.
  return send_line("AUTH TLS", state::auth);
}

action client::on_auth(const reply& r) {
  if (r.code == 234) {
    facts_.starttls_offered = true;
    return go_ahead();  // rule 1: anything after the 234 line stays for take_leftover()
  }
  if (r.code == 421) {
    diag_.detail = "the server closed the session (421) in reply to AUTH TLS";
    return fail(errc::service_unavailable, &r);
  }
  const std::string said = r.lines.front();
  // 500/502: no AUTH command; 504: no TLS mechanism (RFC 2228 §4, RFC 4217 §4).
  const bool unknown = r.code == 500 || r.code == 502 || r.code == 504;
  if (unknown && !facts_.starttls_offered)
    return no_upgrade(errc::starttls_not_supported, &r,
                      "the server does not implement AUTH TLS (RFC 4217 §4)",
                      "AUTH TLS is not implemented (" + said +
                          "): the session continued in PLAINTEXT (level may)");
  // 431 (unavailable now), 534 (policy), 334 (an ADAT exchange: not TLS), anything else.
  return no_upgrade(
      errc::starttls_rejected, &r, "the server refused AUTH TLS (RFC 4217 §4)",
      "AUTH TLS refused (" + said + "): the session continued in PLAINTEXT (level may)");
}

// The upgrade will not happen. Required: QUIT and fail with a named error. Opportunistic
// (level may): carry on in plaintext, say so (DESIGN.md rule 4) and end politely, without
// the login: credentials never go out in plaintext.
action client::no_upgrade(error_code ec, const reply* culprit, std::string detail,
                          std::string warning) {
  diag_.detail = std::move(detail);
  if (options_.require_tls) return goodbye_and_fail(ec, culprit);
  if (culprit) diag_.set_peer(culprit->as_peer_text());
  if (options_.log_in || options_.transfer_data)
    facts_.warnings.push_back(
        "login and data transfer skipped: without TLS they would expose "
        "credentials and data");
  return continue_in_plaintext(std::move(warning));
}

action client::on_protection(const reply& r) {
  if (r.klass() == 2) {
    if (state_ == state::pbsz) return send_line("PROT P", state::prot);  // RFC 4217 §9: PBSZ first
    data_protected_ = true;
    return after_protection();
  }
  if (r.code == 421) {
    diag_.detail = "the server closed the session (421)";
    return fail(errc::service_unavailable, &r);
  }
  const char* command = state_ == state::pbsz ? "PBSZ 0" : "PROT P";
  diag_.detail = std::string("the server refused ") + command +
                 " (RFC 4217 §9): data connections would carry plaintext";
  if (options_.require_tls) return goodbye_and_fail(errc::data_protection_refused, &r);
  facts_.warnings.push_back(std::string(command) + " refused (" + r.lines.front() +
                            "): data connections stay in PLAINTEXT");
  return after_protection();
}

action client::after_protection() {
  if (!options_.log_in && !options_.transfer_data) return goodbye();
  // A line break would end the command early and smuggle another one after it.
  const auto unsafe = [](const std::string& s) {
    return s.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos;
  };
  if (unsafe(options_.user) || unsafe(options_.password)) {
    diag_.detail = "the user name or password contains a line break or NUL; nothing was sent";
    return goodbye_and_fail(errc::login_failed, nullptr);
  }
  const std::string user = options_.user.empty() ? "anonymous" : options_.user;
  return send_line("USER " + user, state::user);
}

action client::on_login(const reply& r) {
  if (state_ == state::user && r.code == 331) {
    const std::string password = options_.user.empty() && options_.password.empty()
                                     ? std::string(anonymous_password)
                                     : options_.password;
    return send_line("PASS " + password, state::pass);
  }
  if (r.code == 230 || (state_ == state::pass && r.code == 202)) return after_login();
  if (r.code == 421) {
    diag_.detail = "the server closed the session (421) during the login";
    return fail(errc::service_unavailable, &r);
  }
  const std::string user = options_.user.empty() ? "anonymous" : options_.user;
  diag_.detail = r.code == 332 ? "the server wants an account (ACCT) for " + user +
                                     ", which otls does not send"
                               : "the server refused the login for " + user;
  return goodbye_and_fail(errc::login_failed, &r);
}

action client::after_login() {
  facts_.logged_in_as = options_.user.empty() ? "anonymous" : options_.user;
  if (!options_.transfer_data) return goodbye();
  return send_line("EPSV", state::epsv);  // RFC 2428 §3; PASV only where EPSV is refused
}

action client::on_passive(const reply& r) {
  if (state_ == state::epsv && r.code != 229) return send_line("PASV", state::pasv);
  if (state_ == state::epsv) {
    const auto port = parse_epsv(r.text());
    if (!port) return data_failed(&r, "the EPSV reply names no port (RFC 2428 §3)");
    state_ = state::data_opening;
    return action::open_data(*port, data_protected_, {});
  }
  if (r.code != 227) return data_failed(&r, "the server refused both EPSV and PASV");
  const auto address = parse_pasv(r.text());
  if (!address) return data_failed(&r, "the PASV reply names no address (RFC 959 §4.1.2)");
  state_ = state::data_opening;
  return action::open_data(address->port, data_protected_, address->host);
}

action client::on_list(const reply& r) {
  if (state_ == state::list && r.klass() <= 2) {
    // 125/150: the transfer starts; a 226/250 straight away means it is already complete.
    list_final_seen_ = r.klass() == 2;
    state_ = state::transfer;
    return action::finish_data();
  }
  if (state_ == state::list_done && r.klass() == 2) return goodbye();
  if (state_ == state::list_done && r.klass() == 1 &&
      ++preliminary_replies_ <= max_preliminary_replies)
    return next();
  return data_failed(&r, state_ == state::list ? "the server refused LIST"
                                               : "the server reported the transfer failed");
}

action client::data_failed(const reply* culprit, std::string detail) {
  diag_.detail = std::move(detail);
  return goodbye_and_fail(errc::data_channel_failure, culprit);
}

void client::on_data_opened(error_code ec) {
  data_error_ = ec;
  data_reported_ = true;
}

void client::on_data_finished(error_code ec, std::string_view received) {
  data_error_ = ec;
  data_reported_ = true;
  if (!ec)
    facts_.data = data_transfer{"LIST", data_protected_, received.size(), first_lines(received)};
}

void client::on_tls_established() {
  // Forget everything learned in plaintext (DESIGN.md rule 2): FEAT is asked again inside TLS.
  features_ = {};
  replies_ = reply_reader{};
  restart_after_tls(state::features, "FEAT\r\n");
}

}  // namespace otls::proto::ftp
