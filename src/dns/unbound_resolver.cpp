// dns::resolver over libunbound: in-process DNSSEC validation (RFC 4033-4035), never
// trusting an upstream AD bit, with answers delivered through ub_fd() on the asio loop.
#include "otls/dns/unbound_resolver.hpp"

#include <unbound.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "otls/dns/rdata.hpp"

namespace otls::dns {
namespace {

constexpr auto nothrow = boost::asio::as_tuple(boost::asio::use_awaitable);
constexpr int class_in = 1;

bool valid_query_name(const std::string& name) {
  // 253 presentation octets without the root dot (RFC 1035 §2.3.4); NULs would truncate
  // the C string libunbound sees and silently ask about another name.
  if (name.empty() || name.size() > 254) return false;
  return name.find('\0') == std::string::npos;
}

// Turns libunbound's result into an answer. The validator's verdict is in secure/bogus;
// libunbound sets neither when no trust anchor covers the name (insecure).
result<answer> to_answer(const std::string& qname, rr_type type, const ub_result& r) {
  answer a;
  a.qname = fully_qualified(qname);
  a.type = type;
  a.ttl = r.ttl > 0 ? static_cast<std::uint32_t>(r.ttl) : 0;
  if (r.nxdomain || r.rcode == 3) {
    a.outcome = rcode::nxdomain;
  } else if (r.rcode == 0) {
    a.outcome = r.havedata ? rcode::noerror : rcode::nodata;
  } else {
    a.outcome = rcode::servfail;  // SERVFAIL, REFUSED, FORMERR...: no usable answer
  }
  // libunbound 1.17 hands over bogus data with rcode NOERROR and bogus=1. A validating
  // resolver must not (RFC 4035 §5.5): report SERVFAIL and drop the records below.
  if (r.bogus) a.outcome = rcode::servfail;
  if (r.secure) {
    a.dnssec = dnssec_status::secure;
  } else if (r.bogus) {
    a.dnssec = dnssec_status::bogus;
    if (r.why_bogus) a.why_bogus = r.why_bogus;
  } else if (a.outcome == rcode::servfail) {
    a.dnssec = dnssec_status::indeterminate;  // nothing was validated either way
  } else {
    a.dnssec = dnssec_status::insecure;
  }

  if (r.havedata && r.data && !r.bogus) {
    for (int i = 0; r.data[i]; ++i) {
      const wire rdata(reinterpret_cast<const std::uint8_t*>(r.data[i]),
                       static_cast<std::size_t>(r.len[i]));
      auto rec = parse_rdata(type, rdata);
      if (!rec) return rec.error();
      a.records.push_back(std::move(*rec));
    }
  }

  // libunbound reports only the final canonical name; the aliases on the way are in the
  // answer packet (RFC 7672 §2.2.2 needs them).
  a.canonical_name = r.canonname ? fully_qualified(r.canonname) : a.qname;
  if (r.answer_packet && r.answer_len > 0) {
    auto chain = cname_chain(wire(static_cast<const std::uint8_t*>(r.answer_packet),
                                  static_cast<std::size_t>(r.answer_len)));
    if (chain) a.cname_chain = std::move(*chain);
  }
  if (a.cname_chain.empty()) {
    a.cname_chain.push_back(a.qname);
    if (a.canonical_name != a.qname) a.cname_chain.push_back(a.canonical_name);
  }
  return a;
}

}  // namespace

std::vector<std::string> read_trust_anchor_zones(const std::string& path) {
  std::vector<std::string> zones;
  std::ifstream in(path);
  std::string line;
  for (int lines = 0; lines < 10'000 && std::getline(in, line); ++lines) {
    // "owner [ttl] [class] DS|DNSKEY ..."; continuation lines start with blanks.
    if (line.empty() || line[0] == ';' || std::isspace(static_cast<unsigned char>(line[0])))
      continue;
    std::istringstream words(line);
    std::string owner, word;
    words >> owner;
    bool anchor = false;
    for (int i = 0; i < 4 && words >> word; ++i) {
      if (word == "DS" || word == "DNSKEY") anchor = true;
    }
    if (!anchor || owner.starts_with('$')) continue;
    owner = fully_qualified(owner);
    if (std::find(zones.begin(), zones.end(), owner) == zones.end()) zones.push_back(owner);
  }
  return zones;
}

std::optional<std::string> to_unbound_forwarder(const std::string& spec) {
  std::string host;
  std::string port = "53";
  if (spec.starts_with('[')) {
    const auto close = spec.find(']');
    if (close == std::string::npos) return std::nullopt;
    host = spec.substr(1, close - 1);
    if (close + 1 < spec.size()) {
      if (spec[close + 1] != ':') return std::nullopt;
      port = spec.substr(close + 2);
    }
  } else if (std::count(spec.begin(), spec.end(), ':') == 1) {
    host = spec.substr(0, spec.find(':'));
    port = spec.substr(spec.find(':') + 1);
  } else {
    host = spec;  // IPv4 without port, or a bare IPv6 literal
  }
  error_code ec;
  boost::asio::ip::make_address(host, ec);
  if (ec) return std::nullopt;
  unsigned value = 0;
  const auto [end, err] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (err != std::errc{} || end != port.data() + port.size() || value == 0 || value > 65535)
    return std::nullopt;
  return host + "@" + std::to_string(value);
}

struct unbound_resolver::impl {
  struct pending {
    explicit pending(boost::asio::any_io_executor ex) : signal(std::move(ex)) {}
    boost::asio::steady_timer signal;  // fires on timeout; cancelled when the answer is in
    std::optional<result<answer>> done;
    impl* owner = nullptr;
    std::string qname;
    rr_type type = rr_type::a;
    bool orphaned = false;  // the resolver went away first
  };

  impl(boost::asio::any_io_executor ex, ub_ctx* c, std::chrono::milliseconds t)
      : ctx(c), fd(ex, ub_fd(c)), timeout(t) {}

  ~impl() {
    // The descriptor belongs to libunbound: release it (cancelling our wait) rather than
    // close it, then let ub_ctx_delete stop the worker thread and free the rest.
    *alive = false;
    fd.release();
    ub_ctx_delete(ctx);
    for (auto& [raw, p] : inflight) {
      p->orphaned = true;
      p->signal.cancel();
    }
  }

  // One outstanding wait at a time, and none while nothing is in flight: a pending wait
  // would keep io_context::run() from returning.
  void arm() {
    if (waiting || inflight.empty()) return;
    waiting = true;
    fd.async_wait(boost::asio::posix::descriptor_base::wait_read,
                  [this, alive = alive](error_code ec) {
                    if (!*alive) return;  // the resolver is gone
                    waiting = false;
                    if (!ec) ub_process(ctx);  // runs on_result for every finished query
                    arm();
                  });
  }

  // After a query left early (timeout), stop waiting if it was the last one.
  void disarm_if_idle() {
    if (waiting && inflight.empty()) fd.cancel();
  }

  static void on_result(void* arg, int err, ub_result* r) {
    auto* p = static_cast<pending*>(arg);
    if (err != 0) {
      p->done = error_code(errc::resolver_failure);
    } else {
      p->done = to_answer(p->qname, p->type, *r);
    }
    ub_resolve_free(r);
    p->signal.cancel();
    p->owner->inflight.erase(p);  // the waiting coroutine keeps its own reference
  }

  ub_ctx* ctx;
  std::vector<std::string> anchor_zones;
  boost::asio::posix::stream_descriptor fd;
  std::chrono::milliseconds timeout;
  std::unordered_map<pending*, std::shared_ptr<pending>> inflight;
  bool waiting = false;
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);
};

unbound_resolver::unbound_resolver(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
unbound_resolver::~unbound_resolver() = default;

result<std::unique_ptr<unbound_resolver>> unbound_resolver::create(boost::asio::any_io_executor ex,
                                                                   const unbound_options& options) {
  ub_ctx* ctx = ub_ctx_create();
  if (!ctx) return errc::resolver_failure;
  auto fail = [ctx](errc e) -> result<std::unique_ptr<unbound_resolver>> {
    ub_ctx_delete(ctx);
    return e;
  };
  // A thread rather than a forked process: no second copy of our address space.
  if (ub_ctx_async(ctx, 1) != 0) return fail(errc::resolver_failure);

  if (options.resolver.empty()) {
    if (ub_ctx_resolvconf(ctx, nullptr) != 0) return fail(errc::bad_config);
  } else {
    const auto fwd = to_unbound_forwarder(options.resolver);
    if (!fwd || ub_ctx_set_fwd(ctx, fwd->c_str()) != 0) return fail(errc::bad_config);
  }
  // Validate here, whatever the upstream says: the AD bit of a forwarder is never trusted
  // (RFC 4035 §4.9.3). This is libunbound's default; stating it keeps it from drifting.
  if (ub_ctx_set_option(ctx, "module-config:", "validator iterator") != 0)
    return fail(errc::resolver_failure);
  // Forwarders on loopback (a local stub, or the test world) are what the user chose.
  if (ub_ctx_set_option(ctx, "do-not-query-localhost:", "no") != 0)
    return fail(errc::resolver_failure);

  // libunbound only records the anchor file name here and reads it when the first query
  // finalizes the configuration, so check that it can be read now for a clear error.
  const std::string anchor =
      options.trust_anchor.empty() ? default_root_anchor : options.trust_anchor;
  if (!std::ifstream(anchor).good()) return fail(errc::bad_config);
  if (ub_ctx_add_ta_file(ctx, anchor.c_str()) != 0) return fail(errc::bad_config);

  if (!options.resolver.empty() && !options.trust_anchor.empty()) {
    // RFC 6761 §6.2: libunbound answers NXDOMAIN for .test by default (a static local
    // zone). A user who brings both a resolver and an anchor is running a private test
    // world, so let those queries through to the forwarder. A transparent zone does it;
    // "test. nodefault" is accepted by ub_ctx_set_option but has no effect (libunbound 1.17).
    if (ub_ctx_set_option(ctx, "local-zone:", "test. transparent") != 0)
      return fail(errc::resolver_failure);
  }

  auto state = std::make_unique<impl>(ex, ctx, options.timeout);
  state->anchor_zones = read_trust_anchor_zones(anchor);
  return std::unique_ptr<unbound_resolver>(new unbound_resolver(std::move(state)));
}

std::vector<std::string> unbound_resolver::trust_anchor_zones() const {
  return impl_->anchor_zones;
}

awaitable<result<answer>> unbound_resolver::query(std::string name, rr_type type) {
  if (!valid_query_name(name)) co_return errc::bad_name;
  impl& self = *impl_;
  auto p = std::make_shared<impl::pending>(self.fd.get_executor());
  p->owner = &self;
  p->qname = name;
  p->type = type;
  p->signal.expires_after(self.timeout);

  int id = 0;
  if (ub_resolve_async(self.ctx, name.c_str(), static_cast<int>(type), class_in, p.get(),
                       &impl::on_result, &id) != 0)
    co_return errc::resolver_failure;
  self.inflight.emplace(p.get(), p);
  self.arm();

  co_await p->signal.async_wait(nothrow);
  if (p->done) co_return std::move(*p->done);
  if (p->orphaned) co_return errc::resolver_failure;
  // Timed out: after ub_cancel libunbound will not call on_result for this query.
  ub_cancel(self.ctx, id);
  self.inflight.erase(p.get());
  self.disarm_if_idle();
  co_return errc::timeout;
}

}  // namespace otls::dns
