// Shared drivers for dialect tests: the fail-count sweep (a fault at every server reply must end
// the client in `fail`) and an in-memory pump running our client role against our server role.
#pragma once

#include <cerrno>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "otls/proto/dialect.hpp"
#include "otls/proto/meddler.hpp"
#include "transcript.hpp"

namespace otls::testing {

using dialect_factory = std::function<std::unique_ptr<proto::dialect>()>;

// ---- fail-count sweep ------------------------------------------------------------------------

// How one faulted run ended.
enum class sweep_end {
  failed,            // the client said `fail`: the wanted end
  refused_leftover,  // bytes followed the go-ahead, so the driver would refuse the handshake
  completed,         // the client said `done` despite the fault
  no_end,            // still running after max_steps
};

struct sweep_case {
  std::size_t fault_at = 0;  // index of the script reply replaced by the fault
  std::string fault;
  sweep_end end = sweep_end::no_end;
  std::string leftover;  // what take_leftover() returned at the first non-clean start_tls
  std::size_t steps = 0;
};

struct sweep_options {
  std::size_t max_steps = 64;
  // Rule 1: bytes after the go-ahead make the driver refuse the handshake, which is a clean end
  // too. When false, any leftover is a test failure (the script has none, so a fault cannot
  // put any there without the dialect mis-framing).
  bool leftover_ends_session = false;
  // Cases a level may legitimately finish (e.g. a refused upgrade at level `may`): they must still
  // end within max_steps, but `done` is allowed.
  std::function<bool(std::size_t fault_at, const std::string& fault)> may_complete;
  std::string label;  // added to every SCOPED_TRACE, e.g. "(may)"
};

// Plays `script` as the server's replies, but replaces reply `fault_at` with `fault` and hangs up
// right after it; later reads get EOF. start_tls is simulated. Asserts nothing: the caller judges.
inline sweep_case run_with_fault(proto::dialect& c, const std::vector<std::string>& script,
                                 std::size_t fault_at, const std::string& fault,
                                 std::size_t max_steps = 64) {
  sweep_case r{fault_at, fault, sweep_end::no_end, {}, 0};
  for (std::size_t reply = 0; r.steps < max_steps; ++r.steps) {
    const proto::action a = c.next();
    switch (a.what) {
      case proto::action::kind::write:
        break;
      case proto::action::kind::start_tls:
        r.leftover = c.take_leftover();
        if (!r.leftover.empty()) {
          r.end = sweep_end::refused_leftover;
          return r;
        }
        c.on_tls_established();
        break;
      case proto::action::kind::need_more:
        if (reply < fault_at && reply < script.size()) {
          c.feed(script[reply++]);
        } else if (reply == fault_at) {
          c.feed(fault);
          c.on_eof();  // after the fault the server hangs up
          ++reply;
        } else {
          c.on_eof();
        }
        break;
      case proto::action::kind::open_data:
        c.on_data_opened({});
        break;
      case proto::action::kind::finish_data:
        c.on_data_finished({}, "file\r\n");
        break;
      case proto::action::kind::done:
        r.end = sweep_end::completed;
        return r;
      case proto::action::kind::fail:
        r.end = sweep_end::failed;
        return r;
    }
  }
  return r;
}

// Checks one sweep case against the options; the SCOPED_TRACE names the case.
inline void check_sweep_case(const sweep_case& r, const sweep_options& o) {
  SCOPED_TRACE("fault at response " + std::to_string(r.fault_at) + ": '" + r.fault.substr(0, 40) +
               "'" + (o.label.empty() ? "" : " " + o.label));
  const bool may_complete = o.may_complete && o.may_complete(r.fault_at, r.fault);
  switch (r.end) {
    case sweep_end::failed:
      break;
    case sweep_end::refused_leftover:
      EXPECT_TRUE(o.leftover_ends_session) << "bytes after the go-ahead: '" << r.leftover << "'";
      break;
    case sweep_end::completed:
      EXPECT_TRUE(may_complete) << "completed despite the fault";
      break;
    case sweep_end::no_end:
      ADD_FAILURE() << "no end within " << o.max_steps << " steps";
      break;
  }
}

// For every k in [0, script.size()) and every fault faults_at(k) returns: a fresh client from
// make_client() meets the script with reply k replaced by the fault. Returns every case.
inline std::vector<sweep_case> fail_count_sweep(
    const dialect_factory& make_client, const std::vector<std::string>& script,
    const std::function<std::vector<std::string>(std::size_t)>& faults_at,
    const sweep_options& o = {}) {
  std::vector<sweep_case> cases;
  for (std::size_t k = 0; k < script.size(); ++k) {
    for (const auto& fault : faults_at(k)) {
      const auto c = make_client();
      cases.push_back(run_with_fault(*c, script, k, fault, o.max_steps));
      check_sweep_case(cases.back(), o);
    }
  }
  // Guards against a sweep that silently ran nothing (an empty script or fault list).
  EXPECT_FALSE(cases.empty()) << "the sweep ran no case";
  return cases;
}

// The same faults at every reply.
inline std::vector<sweep_case> fail_count_sweep(const dialect_factory& make_client,
                                                const std::vector<std::string>& script,
                                                const std::vector<std::string>& faults,
                                                const sweep_options& o = {}) {
  return fail_count_sweep(
      make_client, script, [&](std::size_t) { return faults; }, o);
}

// ---- client role against server role ----------------------------------------------------------

struct pair_result {
  proto::action::kind client_end = proto::action::kind::need_more;  // need_more: never ended
  error_code client_error;
  proto::action::kind server_end = proto::action::kind::need_more;
  error_code server_error;
  bool upgraded = false;  // both sides reached start_tls and "handshook"
  bool ended = false;     // both sides ended within max_steps
};

// Pumps bytes between a client and a server dialect in memory until both end. When one side
// ends, the other sees EOF. A stripper, if given, rewrites server-to-client bytes until the
// upgrade (it cannot see inside TLS). The handshake is simulated by on_tls_established() once both
// sides ask for start_tls, each of which must hold no leftover (rule 1).
inline pair_result run_pair(proto::dialect& c, proto::dialect& s,
                            proto::offer_stripper* stripper = nullptr, int max_steps = 200) {
  pair_result r;
  bool c_wait = false, s_wait = false, c_tls = false, s_tls = false;
  bool c_ended = false, s_ended = false;
  for (int step = 0; step < max_steps && !(c_ended && s_ended); ++step) {
    if (!c_ended && !c_wait) {
      const proto::action a = c.next();
      switch (a.what) {
        case proto::action::kind::write:
          s.feed(a.bytes);
          s_wait = false;
          break;
        case proto::action::kind::need_more:
          c_wait = true;
          break;
        case proto::action::kind::start_tls:
          EXPECT_EQ(c.take_leftover(), "") << "client leftover at start_tls";
          c_tls = c_wait = true;  // the handshake needs the server too
          break;
        case proto::action::kind::open_data:
        case proto::action::kind::finish_data:
          // Server roles have no data channel: a client asking for one fails its transfer.
          if (a.what == proto::action::kind::open_data)
            c.on_data_opened(error_code(ECONNREFUSED, boost::system::generic_category()));
          break;
        case proto::action::kind::done:
        case proto::action::kind::fail:
          c_ended = true;
          r.client_end = a.what;
          r.client_error = a.error;
          s.on_eof();
          s_wait = false;
          break;
      }
    }
    if (!s_ended && !s_wait) {
      const proto::action a = s.next();
      switch (a.what) {
        case proto::action::kind::write:
          c.feed(stripper ? stripper->from_server(a.bytes) : a.bytes);
          c_wait = false;
          break;
        case proto::action::kind::need_more:
          s_wait = true;
          break;
        case proto::action::kind::start_tls:
          EXPECT_EQ(s.take_leftover(), "") << "server leftover at start_tls";
          s_tls = s_wait = true;
          break;
        case proto::action::kind::open_data:
        case proto::action::kind::finish_data:
          ADD_FAILURE() << "a server role asked for a data connection";
          s_ended = true;
          break;
        case proto::action::kind::done:
        case proto::action::kind::fail:
          s_ended = true;
          r.server_end = a.what;
          r.server_error = a.error;
          c.on_eof();
          c_wait = false;
          break;
      }
    }
    if (c_tls && s_tls) {  // both at the upgrade point: "handshake"
      c.on_tls_established();
      s.on_tls_established();
      c_tls = s_tls = c_wait = s_wait = false;
      r.upgraded = true;
      stripper = nullptr;
    }
  }
  r.ended = c_ended && s_ended;
  EXPECT_TRUE(r.ended) << "no end within " << max_steps << " steps (client "
                       << kind_name(r.client_end) << ", server " << kind_name(r.server_end) << ")";
  return r;
}

// The STRIPTLS check for one dialect: our Client against our Server (default options, plus
// `extra` constructor arguments such as an SMTP variant) upgrades, and with the stripper on the
// server-to-client path the same pair ends with the client failing with starttls_not_supported
// (rule 4: never a silent plaintext fall-back), exactly one offer removed.
template <class Client, class Server, class... Extra>
void expect_stripper_is_caught(proto::offer_stripper& stripper, const Extra&... extra) {
  {
    SCOPED_TRACE("without the stripper");
    Client c(proto::client_options{}, extra...);
    Server s(proto::server_options{}, extra...);
    const auto r = run_pair(c, s);
    EXPECT_EQ(kind_name(r.client_end), std::string("done")) << r.client_error.message();
    EXPECT_TRUE(r.upgraded);
    EXPECT_TRUE(c.facts().starttls_accepted);
  }
  SCOPED_TRACE("through the stripper");
  Client c(proto::client_options{}, extra...);
  Server s(proto::server_options{}, extra...);
  const auto r = run_pair(c, s, &stripper);
  EXPECT_EQ(kind_name(r.client_end), std::string("fail"));
  EXPECT_EQ(r.client_error, proto::errc::starttls_not_supported) << r.client_error.message();
  EXPECT_FALSE(r.upgraded);
  EXPECT_FALSE(c.facts().starttls_offered);
  EXPECT_FALSE(c.facts().ended_in_plaintext);
  EXPECT_EQ(stripper.offers_removed(), 1u);
}

// A Server built from `so` with tls_available = false offers no upgrade: a Client requiring TLS
// fails with starttls_not_supported (rule 4); at level `may` it finishes in plaintext and says so.
template <class Client, class Server, class... Extra>
void expect_no_offer_handled(proto::server_options so, const Extra&... extra) {
  so.tls_available = false;
  for (const bool require_tls : {true, false}) {
    SCOPED_TRACE(require_tls ? "require_tls" : "may");
    proto::client_options co;
    co.require_tls = require_tls;
    Client c(co, extra...);
    Server s(so, extra...);
    const auto r = run_pair(c, s);
    EXPECT_EQ(kind_name(r.client_end), std::string(require_tls ? "fail" : "done"))
        << r.client_error.message();
    if (require_tls) {
      EXPECT_EQ(r.client_error, proto::errc::starttls_not_supported) << r.client_error.message();
    }
    EXPECT_FALSE(r.upgraded);
    EXPECT_EQ(c.facts().ended_in_plaintext, !require_tls);
  }
}

}  // namespace otls::testing
