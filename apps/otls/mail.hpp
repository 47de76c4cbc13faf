// Mail-domain commands: `otls probe --mx DOMAIN` (every MX host, DANE where it applies) and
// `otls policy DOMAIN` (the transport-security policy without connecting).
#pragma once

#include <string>

#include "probe.hpp"

namespace otls::app {

struct policy_options {
  std::string domain;
  bool json = false;
  dns_settings dns;
  net::duration timeout{10'000};
  net::address_family family = net::address_family::any;
};

int run_mx_probe(probe_options options);
int run_policy(const policy_options& options);

}  // namespace otls::app
