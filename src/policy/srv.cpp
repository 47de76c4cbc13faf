// SRV service location (RFC 2782; RFC 6120 §3.2 and XEP-0368 for XMPP).
#include "otls/policy/srv.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <random>

namespace otls::policy {

const char* to_string(service_route r) noexcept {
  switch (r) {
    case service_route::srv:
      return "srv";
    case service_route::fallback:
      return "fallback";
    case service_route::no_service:
      return "no-service";
    case service_route::failed:
      return "failed";
  }
  return "?";
}

weight_pick random_weight_pick() {
  auto engine = std::make_shared<std::mt19937>(std::random_device{}());
  return [engine](std::uint32_t total) {
    return std::uniform_int_distribution<std::uint32_t>(0, total)(*engine);
  };
}

std::vector<srv_target> order_targets(std::vector<srv_target> targets, const weight_pick& pick) {
  std::map<std::uint16_t, std::vector<srv_target>> by_priority;
  for (auto& t : targets) by_priority[t.priority].push_back(std::move(t));
  std::vector<srv_target> ordered;
  for (auto& [priority, group] : by_priority) {
    // Zero weights first, so that they have a small chance of being picked early (RFC 2782).
    std::stable_partition(group.begin(), group.end(),
                          [](const srv_target& t) { return t.weight == 0; });
    while (!group.empty()) {
      std::uint32_t total = 0;
      for (const auto& t : group) total += t.weight;
      const std::uint32_t chosen = std::min(pick(total), total);
      std::uint32_t running = 0;
      auto it = group.begin();
      for (; it != group.end(); ++it) {
        running += it->weight;
        if (running >= chosen) break;
      }
      if (it == group.end()) it = std::prev(group.end());
      ordered.push_back(std::move(*it));
      group.erase(it);
    }
  }
  return ordered;
}

service_facts interpret_srv(const std::string& name, const dns::answer& a,
                            const weight_pick& pick) {
  service_facts f;
  f.name = dns::fully_qualified(name);
  f.dnssec = a.dnssec;
  if (a.dnssec == dns::dnssec_status::bogus) {
    f.detail = "the SRV records at " + f.name + " failed DNSSEC validation (bogus" +
               (a.why_bogus.empty() ? "" : ": " + a.why_bogus) + "); trying the domain itself";
    return f;
  }
  switch (a.outcome) {
    case dns::rcode::servfail:
      f.detail = "the SRV lookup of " + f.name + " failed (SERVFAIL); trying the domain itself";
      return f;
    case dns::rcode::nxdomain:
    case dns::rcode::nodata:
      f.route = service_route::fallback;
      f.detail = "no SRV records at " + f.name + ": the domain itself on the default port";
      return f;
    case dns::rcode::noerror:
      break;
  }
  std::vector<srv_target> targets;
  bool dot = false;
  for (const auto& rec : a.records) {
    const auto* srv = std::get_if<dns::srv_record>(&rec);
    if (!srv) continue;
    if (srv->target == "." || srv->target.empty()) {
      dot = true;
      continue;
    }
    targets.push_back({dns::fully_qualified(srv->target), srv->port, srv->priority, srv->weight});
  }
  if (targets.empty()) {
    f.route = dot ? service_route::no_service : service_route::fallback;
    f.detail = dot ? f.name + " says the service is not offered (target \".\", RFC 2782)"
                   : "no usable SRV records at " + f.name + ": the domain itself";
    return f;
  }
  f.route = service_route::srv;
  f.targets = order_targets(std::move(targets), pick);
  return f;
}

awaitable<service_facts> lookup_service(dns::resolver& resolver, std::string_view service,
                                        std::string_view domain, weight_pick pick) {
  const std::string name = std::string(service) + "." + dns::fully_qualified(std::string(domain));
  auto r = co_await resolver.query(name, dns::rr_type::srv);
  if (!r) {
    service_facts f;
    f.name = name;
    f.detail = "the SRV lookup of " + name + " failed: " + r.error().message() +
               "; trying the domain itself";
    co_return f;
  }
  co_return interpret_srv(name, *r, pick);
}

}  // namespace otls::policy
