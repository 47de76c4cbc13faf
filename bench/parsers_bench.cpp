// Micro-benchmarks: SMTP reply reassembly and a full client transcript, bytes per second.
#include <benchmark/benchmark.h>

#include "otls/proto/smtp/client.hpp"
#include "otls/proto/smtp/reply.hpp"

namespace {

using namespace otls::proto;

const std::string ehlo_reply =
    "250-mx.example.org Hello client.example [192.0.2.1]\r\n250-PIPELINING\r\n"
    "250-SIZE 35882577\r\n250-ETRN\r\n250-AUTH PLAIN LOGIN\r\n250-ENHANCEDSTATUSCODES\r\n"
    "250-8BITMIME\r\n250-DSN\r\n250-SMTPUTF8\r\n250 STARTTLS\r\n";

void BM_ReplyReader(benchmark::State& state) {
  for (auto _ : state) {
    smtp::reply_reader reader;
    reader.feed(ehlo_reply);
    auto r = reader.next();
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * ehlo_reply.size()));
}
BENCHMARK(BM_ReplyReader);

void BM_ClientTranscript(benchmark::State& state) {
  for (auto _ : state) {
    smtp::client c({}, smtp::variant::smtp);
    c.feed("220 mx.example.org ESMTP\r\n");
    c.next();
    c.feed(ehlo_reply);
    c.next();
    c.feed("220 2.0.0 Ready to start TLS\r\n");
    benchmark::DoNotOptimize(c.next());
  }
}
BENCHMARK(BM_ClientTranscript);

}  // namespace

BENCHMARK_MAIN();
