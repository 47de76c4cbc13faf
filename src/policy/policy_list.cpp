// The STARTTLS-Everywhere policy list (EFF's JSON format) read from a local file, and its MX
// matching rule. Timestamps are numbers or RFC 3339 strings; no exception leaves this file.
#include "otls/policy/policy_list.hpp"

#include "quoted_text.hpp"

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>

#include <nlohmann/json.hpp>

#include "otls/core/text.hpp"

namespace otls::policy {
namespace {

using detail::quoted_text;

using json = nlohmann::json;

// Domains and MX patterns compare case-insensitively and without the root's trailing dot.
std::string normalized_name(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  return core::to_lower(name);
}

int digits(std::string_view s, std::size_t at, std::size_t count, bool& ok) {
  int value = 0;
  if (at + count > s.size()) {
    ok = false;
    return 0;
  }
  for (std::size_t i = at; i < at + count; ++i) {
    if (s[i] < '0' || s[i] > '9') ok = false;
    value = value * 10 + (s[i] - '0');
  }
  return value;
}

// RFC 3339 §5.6 date-time: YYYY-MM-DD ("T" / "t" / " ") hh:mm:ss [.fraction] ("Z" / "+hh:mm" /
// "-hh:mm"). The fraction is dropped; a leap second (":60") counts as the next second.
std::optional<std::int64_t> parse_rfc3339(std::string_view s) {
  bool ok = s.size() >= 20;
  const int year = digits(s, 0, 4, ok);
  const int month = digits(s, 5, 2, ok);
  const int day = digits(s, 8, 2, ok);
  const int hour = digits(s, 11, 2, ok);
  const int minute = digits(s, 14, 2, ok);
  const int second = digits(s, 17, 2, ok);
  if (!ok || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      s[13] != ':' || s[16] != ':' || hour > 23 || minute > 59 || second > 60)
    return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year{year},
                                         std::chrono::month{static_cast<unsigned>(month)},
                                         std::chrono::day{static_cast<unsigned>(day)}};
  if (!date.ok()) return std::nullopt;
  std::size_t at = 19;
  if (at < s.size() && s[at] == '.') {
    const auto start = ++at;
    while (at < s.size() && s[at] >= '0' && s[at] <= '9') ++at;
    if (at == start) return std::nullopt;
  }
  std::int64_t offset_seconds = 0;
  const auto zone = s.substr(at);
  if (zone == "Z" || zone == "z") {
    offset_seconds = 0;
  } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':') {
    const int offset_hours = digits(zone, 1, 2, ok);
    const int offset_minutes = digits(zone, 4, 2, ok);
    if (!ok || offset_hours > 23 || offset_minutes > 59) return std::nullopt;
    offset_seconds = (offset_hours * 3600 + offset_minutes * 60) * (zone[0] == '-' ? -1 : 1);
  } else {
    return std::nullopt;
  }
  const auto days = std::chrono::sys_days{date}.time_since_epoch().count();
  return std::int64_t{days} * 86400 + hour * 3600 + minute * 60 + second - offset_seconds;
}

// "timestamp" / "expires": absent means 0 (never expires); a number of seconds or an RFC 3339
// string; anything else makes the whole list unusable, since expiry would be a guess.
bool read_time(const json& document, const char* key, std::int64_t& out, std::string& detail) {
  const auto it = document.find(key);
  if (it == document.end()) return true;
  if (it->is_number_integer()) {
    if (it->is_number_unsigned() &&
        it->get<std::uint64_t>() >
            static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      detail = std::string("\"") + key + "\" is out of range";
      return false;
    }
    out = it->get<std::int64_t>();
    return true;
  }
  if (it->is_number_float()) {
    const double seconds = it->get<double>();
    // 2^63 is exactly representable; anything at or beyond it does not fit.
    if (!std::isfinite(seconds) || seconds >= 9223372036854775808.0 ||
        seconds < -9223372036854775808.0) {
      detail = std::string("\"") + key + "\" is out of range";
      return false;
    }
    out = static_cast<std::int64_t>(seconds);
    return true;
  }
  if (it->is_string()) {
    if (const auto seconds = parse_rfc3339(it->get_ref<const std::string&>())) {
      out = *seconds;
      return true;
    }
    detail = std::string("\"") + key + "\" " + quoted_text(it->get_ref<const std::string&>()) +
             " is not an RFC 3339 date-time";
    return false;
  }
  detail = std::string("\"") + key + "\" is neither a number nor an RFC 3339 string";
  return false;
}

// One {"mode": ..., "mxs": [...]} object, from "policies" or "policy-aliases". Returns nullopt
// with the reason when the entry cannot be applied; bad single MX patterns only warn.
std::optional<policy_list_entry> read_entry(const json& object, const std::string& where,
                                            const json* pinsets, std::string& why,
                                            std::vector<std::string>& warnings) {
  if (!object.is_object()) {
    why = where + " is not an object";
    return std::nullopt;
  }
  policy_list_entry entry;
  if (const auto mode = object.find("mode"); mode != object.end()) {
    // Absent means testing: the list's own default, and the one that cannot block mail.
    const std::string* text = mode->is_string() ? &mode->get_ref<const std::string&>() : nullptr;
    if (text && *text == "enforce")
      entry.mode = sts_mode::enforce;
    else if (text && *text == "testing")
      entry.mode = sts_mode::testing;
    else if (text && *text == "none")
      entry.mode = sts_mode::none;
    else {
      why = where + " has a mode that is not \"enforce\", \"testing\" or \"none\"";
      return std::nullopt;
    }
  }
  const auto mxs = object.find("mxs");
  if (mxs != object.end() && !mxs->is_array()) {
    why = where + " has \"mxs\" that is not an array";
    return std::nullopt;
  }
  if (mxs != object.end()) {
    for (const auto& mx : *mxs) {
      if (!mx.is_string()) {
        warnings.push_back(where + ": an \"mxs\" item is not a string; ignored");
        continue;
      }
      auto pattern = normalized_name(mx.get_ref<const std::string&>());
      const std::string_view domain =
          pattern.starts_with('.') ? std::string_view(pattern).substr(1) : pattern;
      if (!is_ldh_domain(domain)) {
        warnings.push_back(where + ": MX pattern " + quoted_text(pattern) +
                           " is not a host name; ignored");
        continue;
      }
      entry.mxs.push_back(std::move(pattern));
    }
  }
  if (entry.mxs.empty() && entry.mode != sts_mode::none) {
    why = where + " has no usable MX pattern";
    return std::nullopt;
  }
  // Pins were never enforced by the list's own tools; an unknown name is only worth a note.
  if (const auto pin = object.find("pin"); pin != object.end()) {
    if (!pin->is_string() || !pinsets || !pinsets->contains(pin->get_ref<const std::string&>()))
      warnings.push_back(where + " names a pinset that \"pinsets\" does not define");
  }
  return entry;
}

std::optional<policy_list> parse_document(std::string_view text, std::string& detail) {
  json document;
  try {
    document = json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {
    detail = std::string("the policy list is not valid JSON: ") + e.what();
    return std::nullopt;
  }
  if (!document.is_object()) {
    detail = "the policy list is not a JSON object";
    return std::nullopt;
  }
  policy_list list;
  if (!read_time(document, "timestamp", list.timestamp, detail) ||
      !read_time(document, "expires", list.expires, detail))
    return std::nullopt;

  const auto policies = document.find("policies");
  if (policies == document.end() || !policies->is_object()) {
    detail = "the policy list has no \"policies\" object";
    return std::nullopt;
  }
  const json* pinsets = nullptr;
  if (const auto it = document.find("pinsets"); it != document.end() && it->is_object())
    pinsets = &*it;

  // Aliases are read once; an alias that is itself unusable is remembered with its reason, so
  // every entry that refers to it says why it was skipped.
  std::map<std::string, std::optional<policy_list_entry>> aliases;
  std::map<std::string, std::string> alias_problems;
  if (const auto it = document.find("policy-aliases"); it != document.end()) {
    if (!it->is_object()) {
      detail = "\"policy-aliases\" is not an object";
      return std::nullopt;
    }
    for (const auto& [name, value] : it->items()) {
      std::string why;
      const auto where = "policy-aliases " + quoted_text(name);
      if (value.is_object() && value.contains("policy-alias")) {
        aliases[name] = std::nullopt;
        alias_problems[name] = where + " refers to another alias";
        continue;
      }
      aliases[name] = read_entry(value, where, pinsets, why, list.warnings);
      if (!aliases[name]) alias_problems[name] = why;
    }
  }

  for (const auto& [raw_domain, value] : policies->items()) {
    const auto domain = normalized_name(raw_domain);
    const auto where = "policies " + quoted_text(raw_domain);
    if (domain.empty()) {
      list.warnings.push_back(where + ": empty domain; skipped");
      continue;
    }
    std::optional<policy_list_entry> entry;
    std::string why;
    const auto alias = value.is_object() ? value.find("policy-alias") : value.end();
    if (value.is_object() && alias != value.end()) {
      if (!alias->is_string()) {
        list.warnings.push_back(where + ": \"policy-alias\" is not a string; skipped");
        continue;
      }
      const auto& name = alias->get_ref<const std::string&>();
      const auto found = aliases.find(name);
      if (found == aliases.end()) {
        list.warnings.push_back(where + ": policy-alias " + quoted_text(name) +
                                " is not defined in \"policy-aliases\"; skipped");
        continue;
      }
      if (!found->second) {
        list.warnings.push_back(where + ": " + alias_problems[name] + "; skipped");
        continue;
      }
      entry = found->second;
    } else {
      entry = read_entry(value, where, pinsets, why, list.warnings);
      if (!entry) {
        list.warnings.push_back(why + "; skipped");
        continue;
      }
    }
    if (!list.policies.emplace(domain, std::move(*entry)).second)
      list.warnings.push_back(where +
                              " repeats a domain already listed (names ignore case and a "
                              "trailing dot); the first entry is kept");
  }
  return list;
}

}  // namespace

const policy_list_entry* policy_list::find(std::string_view domain) const {
  const auto it = policies.find(normalized_name(domain));
  return it == policies.end() ? nullptr : &it->second;
}

std::optional<policy_list> parse_policy_list(std::string_view json_text, std::string& detail) {
  detail.clear();
  try {
    return parse_document(json_text, detail);
  } catch (const std::exception& e) {
    // Only memory exhaustion or a library surprise gets here; callers get an error, not a throw.
    detail = std::string("the policy list could not be read: ") + e.what();
    return std::nullopt;
  }
}

bool list_mx_matches(std::string_view pattern, std::string_view mx_host) {
  const auto p = normalized_name(pattern);
  const auto host = normalized_name(mx_host);
  if (p.empty() || host.empty()) return false;
  if (p.front() == '.') {
    // Any subdomain at any depth, never the name itself; the label before must be non-empty.
    return p.size() > 1 && host.size() > p.size() && host.ends_with(p) &&
           host[host.size() - p.size() - 1] != '.';
  }
  return p == host;
}

}  // namespace otls::policy
