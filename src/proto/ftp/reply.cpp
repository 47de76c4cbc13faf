// FTP replies, FEAT lists, EPSV/PASV answers and command splitting (RFC 959 §4.2, §4.1.2, §5.3;
// RFC 2389 §3; RFC 2428 §3).
#include "otls/proto/ftp/reply.hpp"

#include <algorithm>
#include <charconv>

#include "otls/proto/dialect.hpp"

namespace otls::proto::ftp {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_letter(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

// The last line of a multi-line reply with code `code`: "NNN" alone or "NNN " and text.
bool ends_reply(std::string_view line, int code) {
  const auto parsed = reply_code(line);
  return parsed && *parsed == code && (line.size() == 3 || line[3] == ' ');
}

}  // namespace

std::string reply::text() const {
  if (lines.empty() || lines.front().size() <= 4) return {};
  return lines.front().substr(4);
}

std::optional<int> reply_code(std::string_view line) {
  if (line.size() < 3 || !is_digit(line[0]) || !is_digit(line[1]) || !is_digit(line[2]))
    return std::nullopt;
  if (line[0] < '1' || line[0] > '5') return std::nullopt;
  if (line.size() > 3 && line[3] != ' ' && line[3] != '-') return std::nullopt;
  return (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
}

result<std::optional<reply>> reply_reader::next() {
  for (;;) {
    auto line = lines_.next_line();
    if (!line) return line.error();
    if (!*line) return std::optional<reply>{};
    std::string& text = **line;
    if (!partial_) {
      const auto code = reply_code(text);
      if (!code) return errc::malformed_reply;
      reply r{*code, {}};
      const bool continues = text.size() > 3 && text[3] == '-';
      r.lines.push_back(std::move(text));
      if (!continues) return std::optional<reply>{std::move(r)};
      partial_ = std::move(r);
      continue;
    }
    if (partial_->lines.size() >= max_reply_lines) return errc::malformed_reply;
    const bool last = ends_reply(text, partial_->code);
    partial_->lines.push_back(std::move(text));
    if (last) {
      std::optional<reply> done = std::move(partial_);
      partial_.reset();
      return done;
    }
  }
}

std::string reply_reader::take_leftover() {
  std::string rest;
  if (partial_) {
    // The unfinished reply was received too: it counts as leftover (DESIGN.md rule 1).
    for (const auto& l : partial_->lines) rest += l + "\r\n";
    partial_.reset();
  }
  return rest + lines_.take_leftover();
}

feature_list feature_list::from_reply(const reply& r) {
  feature_list features;
  if (r.lines.size() < 3) return features;  // "211 no features" or "211-x" + "211 End"
  for (std::size_t i = 1; i + 1 < r.lines.size(); ++i) {
    const std::string_view line = core::trim_blanks(r.lines[i]);
    if (line.empty()) continue;
    const std::string_view label = core::first_word(line);
    features.lines.push_back(core::to_upper(label) + std::string(line.substr(label.size())));
  }
  return features;
}

bool feature_list::has(std::string_view label) const {
  return std::any_of(lines.begin(), lines.end(), [&](const std::string& l) {
    return core::iequals(core::first_word(l), label);
  });
}

std::optional<std::string> feature_list::arguments(std::string_view label) const {
  for (const auto& l : lines) {
    const std::string_view word = core::first_word(l);
    if (core::iequals(word, label))
      return std::string(core::trim_blanks(std::string_view(l).substr(word.size())));
  }
  return std::nullopt;
}

bool feature_list::offers_auth_tls() const {
  // RFC 4217 §6 lists "AUTH TLS"; servers write the mechanisms with ";", "," or spaces
  // between them ("AUTH TLS;TLS-C;SSL", "AUTH SSL TLS").
  for (const auto& l : lines) {
    const std::string_view word = core::first_word(l);
    if (!core::iequals(word, "AUTH")) continue;
    std::string_view rest = std::string_view(l).substr(word.size());
    while (!rest.empty()) {
      const auto end = rest.find_first_of(" \t;,");
      if (core::iequals(rest.substr(0, end), "TLS")) return true;
      rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
    }
  }
  return false;
}

std::optional<std::uint16_t> parse_epsv(std::string_view text) {
  const auto open = text.find('(');
  if (open == std::string_view::npos) return std::nullopt;
  std::string_view rest = text.substr(open + 1);
  // (<d><d><d><port><d>) with the same printable delimiter throughout.
  if (rest.size() < 6) return std::nullopt;
  const char d = rest[0];
  if (d < 33 || d > 126 || rest[1] != d || rest[2] != d) return std::nullopt;
  rest.remove_prefix(3);
  const auto close = rest.find(d);
  if (close == std::string_view::npos || close == 0 || close > 5) return std::nullopt;
  if (close + 1 >= rest.size() || rest[close + 1] != ')') return std::nullopt;
  unsigned port = 0;
  const auto digits = rest.substr(0, close);
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (ec != std::errc{} || end != digits.data() + digits.size() || port == 0 || port > 65535)
    return std::nullopt;
  return static_cast<std::uint16_t>(port);
}

std::optional<passive_address> parse_pasv(std::string_view text) {
  // Skip to the first digit: "Entering Passive Mode (" or "=" or nothing at all.
  std::size_t i = 0;
  while (i < text.size() && !is_digit(text[i])) ++i;
  unsigned fields[6];
  for (int f = 0; f < 6; ++f) {
    if (f > 0) {
      if (i >= text.size() || text[i] != ',') return std::nullopt;
      ++i;
    }
    const char* begin = text.data() + i;
    const auto [end, ec] = std::from_chars(begin, text.data() + text.size(), fields[f]);
    if (ec != std::errc{} || end == begin || end - begin > 3 || fields[f] > 255)
      return std::nullopt;
    i += static_cast<std::size_t>(end - begin);
  }
  const unsigned port = fields[4] * 256 + fields[5];
  if (port == 0) return std::nullopt;
  return passive_address{std::to_string(fields[0]) + "." + std::to_string(fields[1]) + "." +
                             std::to_string(fields[2]) + "." + std::to_string(fields[3]),
                         static_cast<std::uint16_t>(port)};
}

std::optional<command> parse_command(std::string_view line) {
  line = core::trim_blanks(line);
  std::size_t n = 0;
  while (n < line.size() && is_letter(line[n])) ++n;
  if (n == 0 || n > 8) return std::nullopt;
  if (n < line.size() && line[n] != ' ' && line[n] != '\t') return std::nullopt;
  return command{core::to_upper(line.substr(0, n)), std::string(core::trim_blanks(line.substr(n)))};
}

}  // namespace otls::proto::ftp
