// A one-shot query through dns::unbound_resolver for the DNSSEC interop tests (RFC 4033-4035):
//   otls_dns_query RESOLVER TRUST_ANCHOR NAME TYPE [TIMEOUT_MS]
//   → one line: "RCODE STATUS n=N canon=NAME chain=A,B why=TEXT" or "error MESSAGE".
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "otls/dns/unbound_resolver.hpp"

int main(int argc, char** argv) {
  using namespace otls::dns;
  if (argc != 5 && argc != 6) {
    std::fprintf(stderr, "usage: %s RESOLVER TRUST_ANCHOR NAME A|AAAA|MX|TXT|TLSA|SRV|CNAME [MS]\n",
                 argv[0]);
    return 2;
  }
  rr_type type = rr_type::a;
  bool known = false;
  for (auto t : {rr_type::a, rr_type::aaaa, rr_type::mx, rr_type::txt, rr_type::tlsa, rr_type::srv,
                 rr_type::cname}) {
    if (std::strcmp(argv[4], to_string(t)) == 0) type = t, known = true;
  }
  if (!known) return 2;
  boost::asio::io_context io;
  unbound_options options;
  options.resolver = argv[1];
  options.trust_anchor = argv[2];
  options.timeout = std::chrono::milliseconds(argc == 6 ? std::atoi(argv[5]) : 10'000);
  auto r = unbound_resolver::create(io.get_executor(), options);
  if (!r) {
    std::printf("error %s\n", r.error().message().c_str());
    return 1;
  }
  auto f = boost::asio::co_spawn(io, (*r)->query(argv[3], type), boost::asio::use_future);
  io.run();
  auto a = f.get();
  if (!a) {
    std::printf("error %s\n", a.error().message().c_str());
    return 1;
  }
  std::string chain;
  for (const auto& n : a->cname_chain) chain += (chain.empty() ? "" : ",") + n;
  std::printf("%s %s n=%zu canon=%s chain=%s why=%s\n", to_string(a->outcome), to_string(a->dnssec),
              a->records.size(), a->canonical_name.c_str(), chain.c_str(), a->why_bogus.c_str());
  return 0;
}
