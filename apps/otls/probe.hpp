// `otls probe`: one server, greeted, upgraded, verified and reported (human or JSON).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "otls/net/client.hpp"

namespace otls::app {

enum class level { may, encrypt, verify };

// Exit codes of `otls probe`, documented in --help and the README.
enum exit_code : int {
  exit_ok = 0,
  exit_internal = 1,
  exit_connect = 2,
  exit_starttls_not_offered = 3,
  exit_starttls_refused = 4,
  exit_handshake = 5,
  exit_verification = 6,
  exit_protocol = 7,
  exit_timeout = 8,
  exit_injection = 9,
  exit_usage = 64,
};

extern const char* const exit_code_help;

struct probe_options {
  std::string url;
  level security = level::verify;
  bool json = false;
  net::client_settings settings;
};

level parse_level(const std::string& text);  // throws std::invalid_argument
std::string_view to_string(level l);

// Applies the level's properties (TLS required? certificate verified?) to the settings.
void apply_level(level l, net::client_settings& settings);

int exit_code_for(const net::client_report& report);

nlohmann::json to_json(const net::client_report& report, level l);
void print_human(std::FILE* out, const net::client_report& report, level l, bool colour);

int run_probe(probe_options options);

}  // namespace otls::app
