// MTA-STS TXT records and policy files (RFC 8461 §3.1, §3.2), the MX pattern match (§4.1) and
// TLSRPT TXT records (RFC 8460 §3). Pure parsers: every rejection names its reason in `detail`.
#include "otls/policy/mta_sts.hpp"

#include "quoted_text.hpp"

#include <algorithm>
#include <charconv>

#include "otls/core/text.hpp"

namespace otls::policy {
namespace {

using detail::quoted_text;

constexpr std::string_view sts_txt_prefix = "v=STSv1;";
constexpr std::string_view tlsrpt_txt_prefix = "v=TLSRPTv1;";

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alnum(char c) {
  return is_alpha(c) || is_digit(c);
}
bool is_wsp(char c) {
  return c == ' ' || c == '\t';
}  // RFC 5234 WSP

constexpr auto trim_wsp = core::trim_blanks;  // RFC 5234 WSP: space and tab

std::string_view without_trailing_dot(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  return name;
}

// RFC 8461 §3.1 sts-ext-name (RFC 8460 §3 and §3.2's sts-policy-ext-name are the same):
// (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".").
bool is_extension_name(std::string_view name) {
  if (name.empty() || name.size() > 32 || !is_alnum(name.front())) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return is_alnum(c) || c == '_' || c == '-' || c == '.'; });
}

// sts-ext-value / tlsrpt-ext-value: 1*(%x21-3A / %x3C / %x3E-7E), visible ASCII but "=" and ";".
bool is_txt_extension_value(std::string_view value) {
  return !value.empty() && std::all_of(value.begin(), value.end(), [](char c) {
    return c >= 0x21 && c <= 0x7e && c != '=' && c != ';';
  });
}

// sts-policy-ext-value: sts-policy-vchar *(*WSP sts-policy-vchar), where the vchars are VCHAR
// or UTF-8 beyond ASCII; the caller has already trimmed the surrounding WSP.
bool is_policy_extension_value(std::string_view value) {
  return !value.empty() && std::all_of(value.begin(), value.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return is_wsp(c) || (u >= 0x21 && u != 0x7f);
  });
}

struct txt_field {
  std::string_view name;
  std::string_view value;
};

// Splits what follows the version of an STSv1 or TLSRPTv1 record, starting at its first ";":
// 1*(field-delim field) [field-delim], field-delim = *WSP ";" *WSP, field = name "=" value.
// Whitespace after the last field is tolerated even without a final ";" (docs/mta-sts.md).
// Field values are checked by the caller, which knows their grammar.
std::optional<std::vector<txt_field>> split_txt_fields(std::string_view rest, std::string& why) {
  std::vector<txt_field> fields;
  std::size_t pos = 0;
  while (pos < rest.size()) {
    while (pos < rest.size() && is_wsp(rest[pos])) ++pos;
    if (pos == rest.size()) break;  // trailing whitespace after the last field
    if (rest[pos] != ';') {
      why = "expected \";\" before " + quoted_text(rest.substr(pos));
      return std::nullopt;
    }
    ++pos;
    while (pos < rest.size() && is_wsp(rest[pos])) ++pos;
    if (pos == rest.size()) break;  // one trailing delimiter is allowed
    const auto end = rest.find(';', pos);
    const auto text = trim_wsp(rest.substr(pos, end == rest.npos ? rest.npos : end - pos));
    if (text.empty()) {
      why = "empty field between \";\" delimiters";
      return std::nullopt;
    }
    const auto equals = text.find('=');
    if (equals == text.npos) {
      why = "field " + quoted_text(text) + " is not name=value";
      return std::nullopt;
    }
    const txt_field field{text.substr(0, equals), text.substr(equals + 1)};
    if (!is_extension_name(field.name)) {
      why = "field name " + quoted_text(field.name) +
            " is not 1-32 letters, digits, \"_\", \"-\", \".\"";
      return std::nullopt;
    }
    fields.push_back(field);
    pos = end == rest.npos ? rest.size() : end;
  }
  if (fields.empty()) {
    why = "no field follows the version";
    return std::nullopt;
  }
  return fields;
}

// The strings of each record joined without separators (RFC 8461 §3.1, RFC 8460 §3), keeping
// only those that begin with the exact version prefix.
std::vector<std::string> records_with_prefix(const std::vector<dns::txt_record>& records,
                                             std::string_view prefix) {
  std::vector<std::string> kept;
  for (const auto& record : records) {
    auto text = record.joined();
    if (text.starts_with(prefix)) kept.push_back(std::move(text));
  }
  return kept;
}

bool is_id(std::string_view v) {
  return !v.empty() && v.size() <= 32 && std::all_of(v.begin(), v.end(), is_alnum);
}

// RFC 3986 §3.1 scheme, then ":" and at least one character.
bool has_uri_scheme(std::string_view uri) {
  const auto colon = uri.find(':');
  if (colon == uri.npos || colon == 0 || colon + 1 == uri.size() || !is_alpha(uri.front()))
    return false;
  return std::all_of(uri.begin(), uri.begin() + static_cast<std::ptrdiff_t>(colon),
                     [](char c) { return is_alnum(c) || c == '+' || c == '-' || c == '.'; });
}

// RFC 3986 characters (unreserved, reserved, "%"), less the ones RFC 8460 §3 requires to be
// percent-encoded inside rua ("," "!" ";"). Anything else means the record is broken.
bool is_tlsrpt_uri_text(std::string_view uri) {
  static constexpr std::string_view allowed_punctuation = "-._~:/?#[]@$&'()*+=%";
  return !uri.empty() && std::all_of(uri.begin(), uri.end(), [](char c) {
    return is_alnum(c) || allowed_punctuation.find(c) != std::string_view::npos;
  });
}

// A URI a report can actually be sent to: mailto:local@domain or https://authority...
bool is_usable_report_uri(std::string_view uri) {
  const auto colon = uri.find(':');
  const auto scheme = uri.substr(0, colon);
  const auto rest = uri.substr(colon + 1);
  if (core::iequals(scheme, "mailto")) {
    const auto at = rest.find('@');
    return at != rest.npos && at > 0 && at + 1 < rest.size();
  }
  if (core::iequals(scheme, "https"))
    return rest.starts_with("//") && rest.size() > 2 && rest[2] != '/';
  return false;
}

void append_note(std::string& detail, std::string_view note) {
  if (!detail.empty()) detail += "; ";
  detail += note;
}

}  // namespace

bool is_ldh_domain(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  std::size_t start = 0;
  while (true) {
    const auto dot = name.find('.', start);
    const auto label = name.substr(start, dot == std::string_view::npos ? name.npos : dot - start);
    if (label.empty() || label.size() > 63 || !is_alnum(label.front()) || !is_alnum(label.back()) ||
        !std::all_of(label.begin(), label.end(), [](char c) { return is_alnum(c) || c == '-'; }))
      return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

const char* to_string(sts_txt_status s) noexcept {
  switch (s) {
    case sts_txt_status::found:
      return "found";
    case sts_txt_status::none:
      return "none";
    case sts_txt_status::ambiguous:
      return "ambiguous";
    case sts_txt_status::invalid:
      return "invalid";
  }
  return "?";
}

const char* to_string(sts_mode m) noexcept {
  switch (m) {
    case sts_mode::enforce:
      return "enforce";
    case sts_mode::testing:
      return "testing";
    case sts_mode::none:
      return "none";
  }
  return "?";
}

sts_txt parse_sts_txt(const std::vector<dns::txt_record>& records) {
  sts_txt out;
  const auto kept = records_with_prefix(records, sts_txt_prefix);
  if (kept.empty()) {
    out.status = sts_txt_status::none;
    out.detail = records.empty() ? "no TXT record" : "no TXT record begins with \"v=STSv1;\"";
    return out;
  }
  if (kept.size() > 1) {
    // §3.1: not exactly one record means no live policy, even if the records agree.
    out.status = sts_txt_status::ambiguous;
    out.detail = std::to_string(kept.size()) +
                 " TXT records begin with \"v=STSv1;\"; exactly one is allowed (RFC 8461 §3.1)";
    return out;
  }
  out.status = sts_txt_status::invalid;
  std::string why;
  // The prefix's ";" is the first delimiter, so the field split starts on it.
  const std::string_view record = kept.front();
  const auto fields = split_txt_fields(record.substr(sts_txt_prefix.size() - 1), why);
  if (!fields) {
    out.detail = "malformed STSv1 record: " + why;
    return out;
  }
  std::optional<std::string_view> id;
  for (const auto& field : *fields) {
    if (field.name == "id") {
      if (id) {
        out.detail = "malformed STSv1 record: more than one id field";
        return out;
      }
      if (!is_id(field.value)) {
        out.detail = "malformed STSv1 record: id " + quoted_text(field.value) +
                     " is not 1-32 letters and digits";
        return out;
      }
      id = field.value;
    } else if (!is_txt_extension_value(field.value)) {
      out.detail = "malformed STSv1 record: the value of " + quoted_text(field.name) +
                   " is empty or has spaces, \"=\" or control characters";
      return out;
    }
  }
  if (!id) {
    out.detail = "malformed STSv1 record: no id field";
    return out;
  }
  out.status = sts_txt_status::found;
  out.id = std::string(*id);
  return out;
}

std::optional<sts_policy> parse_sts_policy(std::string_view body, std::string& detail) {
  detail.clear();
  sts_policy policy;
  bool has_version = false;
  bool has_mode = false;
  bool has_max_age = false;
  std::size_t line_number = 0;
  auto reject = [&](const std::string& why) -> std::optional<sts_policy> {
    detail = "line " + std::to_string(line_number) + ": " + why;
    return std::nullopt;
  };

  for (std::size_t pos = 0; pos < body.size();) {
    const auto newline = body.find('\n', pos);
    auto line = body.substr(pos, newline == body.npos ? body.npos : newline - pos);
    pos = newline == body.npos ? body.size() : newline + 1;
    ++line_number;
    if (line.ends_with('\r')) line.remove_suffix(1);  // CRLF
    if (line.empty()) continue;                       // blank lines are tolerated (docs)

    const auto colon = line.find(':');
    if (colon == line.npos) return reject(quoted_text(line) + " is not \"key: value\"");
    const auto key = line.substr(0, colon);
    const auto value = trim_wsp(line.substr(colon + 1));
    if (!is_extension_name(key))
      return reject("key " + quoted_text(key) +
                    " is not 1-32 letters, digits, \"_\", \"-\", \".\" (no space before \":\")");

    if (key == "version") {
      if (has_version) return reject("version appears twice");
      if (value != "STSv1") return reject("version " + quoted_text(value) + " is not \"STSv1\"");
      has_version = true;
    } else if (key == "mode") {
      if (has_mode) return reject("mode appears twice");
      if (value == "enforce")
        policy.mode = sts_mode::enforce;
      else if (value == "testing")
        policy.mode = sts_mode::testing;
      else if (value == "none")
        policy.mode = sts_mode::none;
      else
        return reject("mode " + quoted_text(value) + " is not enforce, testing or none");
      has_mode = true;
    } else if (key == "max_age") {
      if (has_max_age) return reject("max_age appears twice");
      std::uint64_t seconds = 0;
      const auto* first = value.data();
      const auto* last = value.data() + value.size();
      // 1*10 DIGIT: at most 9999999999, which fits 64 bits; no sign, no spaces inside.
      if (value.empty() || value.size() > 10 || !std::all_of(first, last, is_digit) ||
          std::from_chars(first, last, seconds).ec != std::errc{})
        return reject("max_age " + quoted_text(value) + " is not 1-10 digits");
      if (seconds > sts_max_age_limit) {
        detail = "max_age " + std::string(value) + " exceeds the RFC 8461 maximum; capped to " +
                 std::to_string(sts_max_age_limit);
        seconds = sts_max_age_limit;
      }
      policy.max_age = static_cast<std::uint32_t>(seconds);
      has_max_age = true;
    } else if (key == "mx") {
      auto domain = value;
      if (domain.starts_with("*.")) domain.remove_prefix(2);
      // A trailing dot is not in RFC 5321's Domain, but it names the same host: accepted.
      if (!is_ldh_domain(without_trailing_dot(domain)))
        return reject("mx " + quoted_text(value) +
                      " is not a host name or \"*.\" and a host name (letters, digits, \"-\")");
      policy.mx.emplace_back(value);
    } else if (!is_policy_extension_value(value)) {
      // An extension we do not know: ignored, but it must still be well-formed.
      return reject("the value of " + quoted_text(key) + " is empty or has control characters");
    }
  }

  line_number = 0;  // the remaining complaints are about the whole body
  auto missing = [&](std::string_view what) {
    detail = "the policy has no " + std::string(what) + " line";
    return std::nullopt;
  };
  if (!has_version) return missing("\"version: STSv1\"");
  if (!has_mode) return missing("mode");
  if (!has_max_age) return missing("max_age");
  if (policy.mode != sts_mode::none && policy.mx.empty())
    return missing("mx (required unless mode is none)");
  return policy;
}

bool sts_mx_matches(std::string_view pattern, std::string_view mx_host) {
  pattern = without_trailing_dot(pattern);
  mx_host = without_trailing_dot(mx_host);
  // A "*" is never part of a real host name, so such a host matches nothing, not even itself.
  if (pattern.empty() || mx_host.empty() || mx_host.find('*') != mx_host.npos) return false;
  if (pattern.starts_with("*.")) {
    const auto base = pattern.substr(2);
    if (base.empty() || base.find('*') != base.npos) return false;
    // Exactly one non-empty label in front of ".base" (§4.1).
    if (mx_host.size() < base.size() + 2) return false;
    const auto dot = mx_host.size() - base.size() - 1;
    if (mx_host[dot] != '.' || !core::iequals(mx_host.substr(dot + 1), base)) return false;
    return mx_host.substr(0, dot).find('.') == mx_host.npos;
  }
  if (pattern.find('*') != pattern.npos) return false;  // no other wildcard forms
  return core::iequals(pattern, mx_host);
}

bool sts_policy_covers(const sts_policy& policy, std::string_view mx_host) {
  return std::any_of(policy.mx.begin(), policy.mx.end(),
                     [&](const std::string& pattern) { return sts_mx_matches(pattern, mx_host); });
}

tlsrpt_record parse_tlsrpt_txt(const std::vector<dns::txt_record>& records) {
  tlsrpt_record out;
  const auto kept = records_with_prefix(records, tlsrpt_txt_prefix);
  if (kept.empty()) {
    out.detail = records.empty() ? "no TXT record" : "no TXT record begins with \"v=TLSRPTv1;\"";
    return out;
  }
  if (kept.size() > 1) {
    out.detail = std::to_string(kept.size()) +
                 " TXT records begin with \"v=TLSRPTv1;\"; exactly one is allowed (RFC 8460 §3)";
    return out;
  }
  std::string why;
  const std::string_view record = kept.front();
  const auto fields = split_txt_fields(record.substr(tlsrpt_txt_prefix.size() - 1), why);
  if (!fields) {
    out.detail = "malformed TLSRPTv1 record: " + why;
    return out;
  }
  std::optional<std::string_view> rua;
  for (const auto& field : *fields) {
    if (field.name == "rua") {
      if (rua) {
        out.detail = "malformed TLSRPTv1 record: more than one rua field";
        return out;
      }
      rua = field.value;
    } else if (!is_txt_extension_value(field.value)) {
      out.detail = "malformed TLSRPTv1 record: the value of " + quoted_text(field.name) +
                   " is empty or has spaces, \"=\" or control characters";
      return out;
    }
  }
  if (!rua) {
    out.detail = "malformed TLSRPTv1 record: no rua field";
    return out;
  }

  // tlsrpt-uri *(*WSP "," *WSP tlsrpt-uri); the field split already trimmed the ends.
  std::vector<std::string> usable;
  std::string notes;
  for (std::size_t pos = 0; pos <= rua->size();) {
    const auto comma = rua->find(',', pos);
    const auto uri = trim_wsp(rua->substr(pos, comma == rua->npos ? rua->npos : comma - pos));
    pos = comma == rua->npos ? rua->size() + 1 : comma + 1;
    if (!is_tlsrpt_uri_text(uri) || !has_uri_scheme(uri)) {
      out.detail = "malformed TLSRPTv1 record: rua entry " + quoted_text(uri) +
                   " is not a URI (\",\", \"!\" and \";\" must be percent-encoded)";
      return out;
    }
    if (is_usable_report_uri(uri))
      usable.emplace_back(uri);
    else
      append_note(notes,
                  "ignored rua " + quoted_text(uri) + " (only mailto:user@host and https://)");
  }
  if (usable.empty()) {
    out.detail = "the TLSRPTv1 record has no usable rua URI";
    append_note(out.detail, notes);
    return out;
  }
  out.found = true;
  out.rua = std::move(usable);
  out.detail = std::move(notes);
  return out;
}

}  // namespace otls::policy
