// POP3 response framing with dot-unstuffing (RFC 1939 §3), CAPA keywords (RFC 2449 §5) and
// command splitting (RFC 1939 §3).
#include "otls/proto/pop3/response.hpp"

#include <algorithm>
#include <cctype>

#include "otls/proto/dialect.hpp"

namespace otls::proto::pop3 {
namespace {

char upper_char(char c) {
  return static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
}

std::string upper(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), upper_char);
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return upper_char(x) == upper_char(y);
         });
}

std::string_view keyword_of(std::string_view line) {
  return line.substr(0, std::min(line.find(' '), line.size()));
}

// A body line as it travels: a leading "." is doubled (RFC 1939 §3, "byte-stuffed").
std::string stuffed(const std::string& line) {
  return (!line.empty() && line.front() == '.' ? "." : "") + line;
}

}  // namespace

std::vector<std::string> response::as_peer_text() const {
  std::vector<std::string> out;
  out.push_back(std::string(ok ? "+OK" : "-ERR") + (text.empty() ? "" : " " + text));
  for (const auto& l : lines) out.push_back(l);
  return out;
}

std::optional<response> parse_status(std::string_view line) {
  for (const bool ok : {true, false}) {
    const std::string_view indicator = ok ? "+OK" : "-ERR";
    if (line.size() < indicator.size() || !iequals(line.substr(0, indicator.size()), indicator))
      continue;
    const std::string_view rest = line.substr(indicator.size());
    if (!rest.empty() && rest.front() != ' ') return std::nullopt;  // "+OKAY" is no status
    return response{ok, std::string(rest.empty() ? rest : rest.substr(1)), {}};
  }
  return std::nullopt;
}

result<std::optional<response>> response_reader::next(bool multiline) {
  for (;;) {
    auto line = lines_.next_line();
    if (!line) return line.error();
    if (!*line) return std::optional<response>{};
    std::string& text = **line;
    if (!partial_) {
      auto status = parse_status(text);
      if (!status) return errc::malformed_reply;
      // Only +OK opens a body; -ERR is always a single line (RFC 1939 §3).
      if (!multiline || !status->ok) return std::optional<response>{std::move(*status)};
      partial_ = std::move(*status);
      continue;
    }
    if (text == ".") {
      response done = std::move(*partial_);
      partial_.reset();
      return std::optional<response>{std::move(done)};
    }
    if (partial_->lines.size() >= max_multiline_lines) return errc::malformed_reply;
    if (!text.empty() && text.front() == '.') text.erase(0, 1);  // dot-unstuffing
    partial_->lines.push_back(std::move(text));
  }
}

std::string response_reader::take_leftover() {
  std::string rest;
  if (partial_) {
    // The unfinished response was received too: it counts as leftover (DESIGN.md rule 1).
    rest = partial_->as_peer_text().front() + "\r\n";
    for (const auto& l : partial_->lines) rest += stuffed(l) + "\r\n";
    partial_.reset();
  }
  return rest + lines_.take_leftover();
}

capabilities capabilities::from_response(const response& r) {
  capabilities caps;
  for (std::string_view line : r.lines) {
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    if (line.empty()) continue;
    const std::string_view kw = keyword_of(line);
    caps.lines.push_back(upper(kw) + std::string(line.substr(kw.size())));
  }
  return caps;
}

bool capabilities::has(std::string_view keyword) const {
  return std::any_of(lines.begin(), lines.end(),
                     [&](const std::string& l) { return iequals(keyword_of(l), keyword); });
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

}  // namespace otls::proto::pop3
