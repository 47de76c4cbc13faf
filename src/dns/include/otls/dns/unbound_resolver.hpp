// The libunbound implementation of dns::resolver: an in-process validating resolver
// (RFC 4033-4035) driven by the asio loop through libunbound's file descriptor.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/any_io_executor.hpp>

#include "otls/dns/resolver.hpp"

namespace otls::dns {

struct unbound_options {
  // "ADDR", "ADDR:PORT", "[V6]:PORT" or "V6". Empty: the forwarders in /etc/resolv.conf.
  std::string resolver;
  // DS or DNSKEY records in zone-file format. Empty: Debian's root anchor (dns-root-data).
  std::string trust_anchor;
  std::chrono::milliseconds timeout{10'000};  // per query
};

inline constexpr const char* default_root_anchor = "/usr/share/dns/root.key";

class unbound_resolver final : public resolver {
 public:
  // Fails with errc::bad_config when the resolver address or anchor file is unusable.
  static result<std::unique_ptr<unbound_resolver>> create(boost::asio::any_io_executor ex,
                                                          const unbound_options& options);
  ~unbound_resolver() override;
  unbound_resolver(const unbound_resolver&) = delete;
  unbound_resolver& operator=(const unbound_resolver&) = delete;

  // Must not outlive *this; queries still pending at destruction end with errc::timeout
  // at the latest when their timer fires.
  awaitable<result<answer>> query(std::string name, rr_type type) override;
  std::vector<std::string> trust_anchor_zones() const override;

  struct impl;

 private:
  explicit unbound_resolver(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

// The owner names of the DS and DNSKEY records in a trust-anchor file (zone-file format),
// fully qualified, without duplicates; empty when the file cannot be read.
std::vector<std::string> read_trust_anchor_zones(const std::string& path);

// "ADDR[:PORT]" → libunbound's "ADDR@PORT" (port 53 when absent); nullopt when malformed.
std::optional<std::string> to_unbound_forwarder(const std::string& spec);

}  // namespace otls::dns
