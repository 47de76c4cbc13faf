// SMTP reply reassembly, EHLO keyword parsing and command splitting (RFC 5321 §4.1-4.2).
#include "otls/proto/smtp/reply.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "otls/proto/dialect.hpp"

namespace otls::proto::smtp {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::toupper(static_cast<unsigned char>(x)) ==
                  std::toupper(static_cast<unsigned char>(y));
         });
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string_view keyword_of(std::string_view extension) {
  return extension.substr(0, std::min(extension.find_first_of(" ="), extension.size()));
}

}  // namespace

std::vector<std::string> reply::as_peer_text() const {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < lines.size(); ++i)
    out.push_back(std::to_string(code) + (i + 1 < lines.size() ? "-" : " ") + lines[i]);
  return out;
}

result<std::optional<reply>> reply_reader::next() {
  for (;;) {
    auto line = lines_.next_line();
    if (!line) return line.error();
    if (!*line) return std::optional<reply>{};
    const std::string& text = **line;
    // reply-line = Reply-code [ SP textstring ] CRLF; continuation uses "-" (RFC 5321 §4.2).
    int code = 0;
    const bool digits = text.size() >= 3 && std::isdigit(static_cast<unsigned char>(text[0])) &&
                        std::isdigit(static_cast<unsigned char>(text[1])) &&
                        std::isdigit(static_cast<unsigned char>(text[2]));
    if (!digits) return errc::malformed_reply;
    std::from_chars(text.data(), text.data() + 3, code);
    if (code < 200 || code > 599) return errc::malformed_reply;
    const char sep = text.size() > 3 ? text[3] : ' ';
    if (sep != ' ' && sep != '-') return errc::malformed_reply;
    if (!partial_.lines.empty() && partial_.code != code) return errc::malformed_reply;
    if (partial_.lines.size() >= max_reply_lines) return errc::malformed_reply;
    partial_.code = code;
    partial_.lines.push_back(text.size() > 4 ? text.substr(4) : std::string{});
    if (sep == ' ') {
      reply done = std::move(partial_);
      partial_ = {};
      return std::optional<reply>{std::move(done)};
    }
  }
}

std::string reply_reader::take_leftover() {
  std::string rest;
  // Lines of an unfinished reply (all continuation lines) were received too: they count.
  for (const auto& l : partial_.lines) rest += std::to_string(partial_.code) + "-" + l + "\r\n";
  partial_ = {};
  return rest + lines_.take_leftover();
}

ehlo_capabilities ehlo_capabilities::from_reply(const reply& r) {
  ehlo_capabilities caps;
  if (r.lines.empty()) return caps;
  caps.greeting = r.lines.front();
  for (std::size_t i = 1; i < r.lines.size(); ++i) {
    std::string_view ext = r.lines[i];
    while (!ext.empty() && ext.back() == ' ') ext.remove_suffix(1);
    if (ext.empty()) continue;
    // Keywords are case-insensitive; normalise the keyword, keep parameters as sent.
    const std::string_view kw = keyword_of(ext);
    caps.extensions.push_back(upper(kw) + std::string(ext.substr(kw.size())));
  }
  return caps;
}

bool ehlo_capabilities::has(std::string_view keyword) const {
  return std::any_of(extensions.begin(), extensions.end(),
                     [&](const std::string& e) { return iequals(keyword_of(e), keyword); });
}

std::optional<std::string> ehlo_capabilities::params(std::string_view keyword) const {
  for (const auto& e : extensions) {
    const std::string_view kw = keyword_of(e);
    if (!iequals(kw, keyword)) continue;
    std::string_view rest = std::string_view(e).substr(kw.size());
    while (!rest.empty() && (rest.front() == ' ' || rest.front() == '=')) rest.remove_prefix(1);
    return std::string(rest);
  }
  return std::nullopt;
}

std::optional<std::uint64_t> ehlo_capabilities::size_limit() const {
  const auto p = params("SIZE");
  if (!p) return std::nullopt;
  std::uint64_t value = 0;
  const auto [ptr, ec] = std::from_chars(p->data(), p->data() + p->size(), value);
  if (ec != std::errc{}) return std::uint64_t{0};  // "SIZE" alone: no fixed limit (RFC 1870)
  return value;
}

std::vector<std::string> ehlo_capabilities::auth_mechanisms() const {
  std::vector<std::string> mechanisms;
  for (const auto& e : extensions) {
    if (!iequals(keyword_of(e), "AUTH")) continue;
    std::string_view rest = std::string_view(e).substr(4);
    while (!rest.empty()) {
      while (!rest.empty() && (rest.front() == ' ' || rest.front() == '=')) rest.remove_prefix(1);
      const std::size_t end = std::min(rest.find(' '), rest.size());
      if (end == 0) break;
      std::string mech = upper(rest.substr(0, end));
      if (std::find(mechanisms.begin(), mechanisms.end(), mech) == mechanisms.end())
        mechanisms.push_back(std::move(mech));
      rest.remove_prefix(end);
    }
  }
  return mechanisms;
}

std::optional<command> parse_command(std::string_view line) {
  const std::size_t end = std::min(line.find(' '), line.size());
  const std::string_view verb = line.substr(0, end);
  if (verb.empty() ||
      !std::all_of(verb.begin(), verb.end(), [](unsigned char c) { return std::isalpha(c); }))
    return std::nullopt;
  command cmd{upper(verb), {}};
  if (end < line.size()) cmd.args = std::string(line.substr(end + 1));
  return cmd;
}

}  // namespace otls::proto::smtp
