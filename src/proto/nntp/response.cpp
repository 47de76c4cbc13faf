// NNTP status lines, dot-terminated data blocks, CAPABILITIES lists and command splitting
// (RFC 3977 §3.1, §3.1.1, §3.2, §5.2).
#include "otls/proto/nntp/response.hpp"

#include <algorithm>
#include <cctype>

#include "otls/proto/dialect.hpp"

namespace otls::proto::nntp {
namespace {

using core::to_upper;
constexpr auto trim = core::trim_blanks;

// RFC 3977 §3.1.1: a block line that starts with "." is sent with one more "." in front.
std::string stuffed(const std::string& line) {
  return !line.empty() && line.front() == '.' ? "." + line : line;
}

}  // namespace

std::vector<std::string> response::as_peer_text() const {
  std::vector<std::string> out{std::to_string(code) + (text.empty() ? "" : " " + text)};
  out.insert(out.end(), block.begin(), block.end());
  return out;
}

std::optional<response> parse_status_line(std::string_view line) {
  const auto digit = [&](std::size_t i) {
    return std::isdigit(static_cast<unsigned char>(line[i])) != 0;
  };
  if (line.size() < 3 || !digit(0) || !digit(1) || !digit(2)) return std::nullopt;
  if (line[0] < '1' || line[0] > '5') return std::nullopt;
  if (line.size() > 3 && line[3] != ' ') return std::nullopt;  // "2000", "200-x": not NNTP
  response r;
  r.code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
  if (line.size() > 4) r.text = std::string(line.substr(4));
  return r;
}

result<std::optional<response>> response_reader::next(int block_code) {
  for (;;) {
    auto line = lines_.next_line();
    if (!line) return line.error();
    if (!*line) return std::optional<response>{};
    std::string& text = **line;
    if (!in_block_) {
      auto status = parse_status_line(text);
      if (!status) return errc::malformed_reply;
      if (block_code == 0 || status->code != block_code)
        return std::optional<response>{std::move(*status)};
      partial_ = std::move(*status);
      partial_.multi_line = true;
      in_block_ = true;
      continue;
    }
    if (text == ".") {
      in_block_ = false;
      response done = std::move(partial_);
      partial_ = {};
      return std::optional<response>{std::move(done)};
    }
    if (partial_.block.size() >= max_block_lines) return errc::malformed_reply;
    if (!text.empty() && text.front() == '.') text.erase(0, 1);  // dot-unstuffing (§3.1.1)
    partial_.block.push_back(std::move(text));
  }
}

std::string response_reader::take_leftover() {
  std::string rest;
  if (in_block_) {
    // The unfinished response was received too: it counts as leftover (DESIGN.md rule 1).
    rest = partial_.as_peer_text().front() + "\r\n";
    for (const auto& l : partial_.block) rest += stuffed(l) + "\r\n";
  }
  partial_ = {};
  in_block_ = false;
  return rest + lines_.take_leftover();
}

capability_list capability_list::from_block(const std::vector<std::string>& block) {
  capability_list caps;
  for (const auto& raw : block) {
    const std::string_view line = trim(raw);
    if (line.empty()) continue;
    const std::string_view label = first_word(line);
    caps.lines.push_back(to_upper(label) + std::string(line.substr(label.size())));
  }
  return caps;
}

bool capability_list::has(std::string_view label) const {
  return std::any_of(lines.begin(), lines.end(),
                     [&](const std::string& l) { return iequals(first_word(l), label); });
}

std::optional<std::string> capability_list::arguments(std::string_view label) const {
  for (const auto& l : lines) {
    const std::string_view w = first_word(l);
    if (iequals(w, label)) return std::string(trim(std::string_view(l).substr(w.size())));
  }
  return std::nullopt;
}

std::optional<command> parse_command(std::string_view line) {
  line = trim(line);
  const std::string_view verb = first_word(line);
  if (verb.empty() ||
      !std::all_of(verb.begin(), verb.end(), [](unsigned char c) { return c > 0x20 && c < 0x7f; }))
    return std::nullopt;
  return command{to_upper(verb), std::string(trim(line.substr(verb.size())))};
}

}  // namespace otls::proto::nntp
