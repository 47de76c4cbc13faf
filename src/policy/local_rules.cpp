// Local per-domain overrides read with toml++ (Debian's libtomlplusplus-dev).
#include "otls/policy/local_rules.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>

#include <toml++/toml.h>

#include "otls/core/text.hpp"

namespace otls::policy {
namespace {

std::string normalise(std::string_view domain) {
  return dns::without_root_dot(core::to_lower(domain));
}

bool is_sha256_hex(std::string text) {
  std::erase(text, ':');
  return text.size() == 64 && std::all_of(text.begin(), text.end(),
                                          [](unsigned char c) { return std::isxdigit(c) != 0; });
}

// Reads a string array; false (with detail) when the value is not one.
bool read_strings(const toml::node_view<const toml::node>& node, const std::string& where,
                  std::vector<std::string>& out, std::string& detail) {
  if (!node) return true;
  const auto* array = node.as_array();
  if (!array) {
    detail = where + ": expected an array of strings";
    return false;
  }
  for (const auto& item : *array) {
    const auto* text = item.as_string();
    if (!text) {
      detail = where + ": expected an array of strings";
      return false;
    }
    out.push_back(text->get());
  }
  return true;
}

}  // namespace

const local_rule* local_rules::find(std::string_view domain) const {
  const auto it = domains.find(normalise(domain));
  return it == domains.end() ? nullptr : &it->second;
}

std::optional<local_rules> parse_local_rules(std::string_view toml_text, std::string& detail) {
  toml::table root;
  try {
    root = toml::parse(toml_text);
  } catch (const toml::parse_error& e) {
    detail = std::string(e.description()) + " (line " + std::to_string(e.source().begin.line) + ")";
    return std::nullopt;
  }
  local_rules rules;
  const auto* domains = root["domain"].as_table();
  if (!domains) {
    if (root.contains("domain")) {
      detail = "[domain] must be a table of domains";
      return std::nullopt;
    }
    return rules;  // an empty file is a valid, empty configuration
  }
  for (const auto& [key, value] : *domains) {
    const std::string where = "domain.\"" + std::string(key.str()) + "\"";
    const auto* table = value.as_table();
    if (!table) {
      detail = where + ": expected a table";
      return std::nullopt;
    }
    local_rule rule;
    const toml::node_view<const toml::node> view{value};
    if (const auto level = view["level"]) {
      const auto* text = level.as_string();
      const auto parsed = text ? parse_security_level(text->get()) : std::nullopt;
      if (!parsed) {
        detail = where +
                 ".level: expected one of none, may, encrypt, dane, dane-only, "
                 "fingerprint, verify, secure";
        return std::nullopt;
      }
      rule.level = parsed;
    }
    if (!read_strings(view["mx"], where + ".mx", rule.mx, detail) ||
        !read_strings(view["fingerprints"], where + ".fingerprints", rule.fingerprints, detail))
      return std::nullopt;
    for (const auto& f : rule.fingerprints) {
      if (!is_sha256_hex(f)) {
        detail = where + ".fingerprints: '" + f + "' is not a SHA-256 digest in hex";
        return std::nullopt;
      }
    }
    if (rule.level == security_level::fingerprint && rule.fingerprints.empty()) {
      detail = where + ": level fingerprint needs fingerprints";
      return std::nullopt;
    }
    rules.domains[normalise(key.str())] = std::move(rule);
  }
  return rules;
}

std::optional<local_rules> load_local_rules(const std::string& path, std::string& detail) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    detail = path + ": cannot be read";
    return std::nullopt;
  }
  // A configuration file, not data: 1 MiB is far more than any real one.
  std::string contents(1u << 20, '\0');
  in.read(contents.data(), static_cast<std::streamsize>(contents.size()));
  contents.resize(static_cast<std::size_t>(in.gcount()));
  if (in.gcount() == (1 << 20) && in.peek() != EOF) {
    detail = path + ": larger than 1 MiB";
    return std::nullopt;
  }
  auto rules = parse_local_rules(contents, detail);
  if (!rules) detail = path + ": " + detail;
  return rules;
}

}  // namespace otls::policy
