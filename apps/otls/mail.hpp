// Mail-domain commands: `otls probe --mx DOMAIN` (every MX host under one decision per host)
// and `otls policy DOMAIN` (the transport-security policy without delivering: MX, DANE,
// MTA-STS, TLSRPT, the STARTTLS-Everywhere list, local rules, the decision per MX).
#pragma once

#include <string>

#include "probe.hpp"

namespace otls::app {

struct policy_options {
  std::string domain;  // empty only with --refresh
  bool json = false;
  bool check = false;    // also connect to each MX and check its certificate names
  bool refresh = false;  // refresh cached MTA-STS policies near expiry (RFC 8461 §5.1)
  dns_settings dns;
  mail_policy_settings mail;
  net::duration timeout{10'000};
  net::address_family family = net::address_family::any;
  std::string ca_file;  // --cafile for --check
};

int run_mx_probe(probe_options options);
int run_policy(const policy_options& options);

}  // namespace otls::app
