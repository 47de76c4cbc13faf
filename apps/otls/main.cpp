// The otls command line: subcommands over the otls library (exceptions are allowed here only).
#include <cstdio>
#include <exception>

#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include "demo.hpp"
#include "otls/proto/registry.hpp"
#include "probe.hpp"

namespace {

using namespace otls::app;

// The URL schemes straight from the protocol registry, so --help never goes stale.
std::string scheme_help() {
  std::string text = "\nSchemes (default port):\n";
  for (const auto& p : otls::proto::protocols())
    text += fmt::format("  {:<13} {:>5}  {}\n", p.scheme, p.default_port, p.summary);
  return text;
}

void add_probe(CLI::App& app, probe_options& options, std::string& level_text, double& timeout_s,
               std::string& tls_min) {
  auto* probe = app.add_subcommand("probe", "Probe one server: greet, upgrade, handshake, verify");
  probe->footer(scheme_help() + "\n" + exit_code_help);
  probe->add_option("url", options.url, "scheme://host[:port], e.g. smtp://mx.example.org")
      ->required();
  probe->add_flag("--json", options.json, "print one JSON object (see docs/json.md)");
  probe
      ->add_option("--cafile", options.settings.tls.ca_file,
                   "trust anchors (PEM) instead of the system store")
      ->check(CLI::ExistingFile);
  probe->add_option("--servername", options.settings.tls.servername,
                    "name for SNI and certificate checks (default: the URL's host)");
  probe->add_option("--ehlo-name", options.settings.dialect.client_name,
                    "name sent in EHLO/LHLO (default: localhost)");
  probe->add_option("--timeout", timeout_s, "seconds allowed for each step (default 10)")
      ->check(CLI::Range(0.1, 3600.0));
  probe->add_option("--tls-min", tls_min,
                    "lowest TLS version: 1.0, 1.1, 1.2 (default), 1.3; below 1.2 also lowers "
                    "OpenSSL's security level to 0");
  probe
      ->add_option("--level", level_text,
                   "may: TLS if offered, plaintext reported; encrypt: TLS required, not "
                   "verified; verify (default): TLS required, chain and name verified")
      ->check(CLI::IsMember({"may", "encrypt", "verify"}));
  auto* v4 = probe->add_flag_callback(
      "-4", [&] { options.settings.family = otls::net::address_family::ipv4; }, "IPv4 only");
  auto* v6 = probe->add_flag_callback(
      "-6", [&] { options.settings.family = otls::net::address_family::ipv6; }, "IPv6 only");
  v4->excludes(v6);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"otls: opportunistic TLS (STARTTLS) probing, done right", "otls"};
  app.set_version_flag("--version", "otls 0.1.0");
  app.require_subcommand(1);

  probe_options probe;
  std::string level_text = "verify";
  double timeout_s = 10;
  std::string tls_min = "1.2";
  add_probe(app, probe, level_text, timeout_s, tls_min);

  demo_options demo;
  auto* demo_cmd = app.add_subcommand(
      "demo", "Run the embedded lab: otls's SMTP server and a STRIPTLS attacker on loopback");
  demo_cmd->add_flag("--details", demo.details, "print every probe's full report");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : exit_usage;
  }

  try {
    if (app.got_subcommand("probe")) {
      probe.security = parse_level(level_text);
      probe.settings.timeout =
          std::chrono::milliseconds(static_cast<long long>(timeout_s * 1000.0));
      auto version = otls::tls::parse_version(tls_min);
      if (!version) {
        fmt::print(stderr, "otls probe: --tls-min {}: expected 1.0, 1.1, 1.2 or 1.3\n", tls_min);
        return exit_usage;
      }
      probe.settings.tls.min_version = *version;
      return run_probe(std::move(probe));
    }
    if (app.got_subcommand("demo")) return run_demo(demo);
  } catch (const std::exception& e) {
    fmt::print(stderr, "otls: {}\n", e.what());
    return exit_internal;
  }
  return exit_usage;
}
