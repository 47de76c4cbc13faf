// IRC message syntax (RFC 2812 §2.3.1, IRCv3 message-tags) and CAP LS lists (IRCv3 capability
// negotiation 3.2, IRCv3 STS).
#include "otls/proto/irc/message.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "otls/core/text.hpp"
#include "otls/proto/dialect.hpp"

namespace otls::proto::irc {
namespace {

using core::to_upper;

// The word up to the next space; `rest` moves past it.
std::string_view take_word(std::string_view& rest) {
  const std::size_t end = std::min(rest.find(' '), rest.size());
  const std::string_view word = rest.substr(0, end);
  rest.remove_prefix(end);
  return word;
}

void skip_spaces(std::string_view& rest) {
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
}

bool valid_command(std::string_view c) {
  const auto is = [&](auto pred) {
    return !c.empty() &&
           std::all_of(c.begin(), c.end(), [&](unsigned char ch) { return pred(ch); });
  };
  return is([](unsigned char ch) { return std::isalpha(ch) != 0; }) ||
         (c.size() == 3 && is([](unsigned char ch) { return std::isdigit(ch) != 0; }));
}

template <class Number>
std::optional<Number> to_number(std::string_view s) {
  Number n{};
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc{} || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return n;
}

}  // namespace

int message::numeric() const {
  if (command.size() != 3 ||
      !std::all_of(command.begin(), command.end(), [](unsigned char c) { return std::isdigit(c); }))
    return -1;
  return (command[0] - '0') * 100 + (command[1] - '0') * 10 + (command[2] - '0');
}

std::string_view message::last_param() const {
  return params.empty() ? std::string_view{} : std::string_view(params.back());
}

std::optional<message> parse_message(std::string_view line) {
  // RFC 2812 §2.3.1: NUL never appears in a message; a line carrying one is not IRC.
  if (line.find('\0') != std::string_view::npos) return std::nullopt;
  message m;
  m.raw = std::string(line);
  std::string_view rest = line;
  if (!rest.empty() && rest.front() == '@') {
    rest.remove_prefix(1);
    m.tags = std::string(take_word(rest));
    skip_spaces(rest);
  }
  if (!rest.empty() && rest.front() == ':') {
    rest.remove_prefix(1);
    m.prefix = std::string(take_word(rest));
    skip_spaces(rest);
  }
  const std::string_view command = take_word(rest);
  if (!valid_command(command)) return std::nullopt;
  m.command = to_upper(command);
  for (;;) {
    skip_spaces(rest);
    if (rest.empty()) break;
    // RFC 2812 §2.3.1: after 14 middle parameters the rest is the trailing one, ":" optional.
    if (rest.front() == ':' || m.params.size() == 14) {
      if (rest.front() == ':') rest.remove_prefix(1);
      m.params.emplace_back(rest);
      break;
    }
    m.params.emplace_back(take_word(rest));
  }
  return m;
}

result<std::optional<message>> message_reader::next() {
  for (;;) {
    auto line = lines_.next_line();
    if (!line) return line.error();
    if (!*line) return std::optional<message>{};
    const std::string& text = **line;
    if (std::all_of(text.begin(), text.end(), [](char c) { return c == ' '; })) continue;
    auto m = parse_message(text);
    if (!m) return errc::malformed_reply;
    return std::optional<message>{std::move(*m)};
  }
}

std::vector<capability> parse_capabilities(std::string_view list) {
  std::vector<capability> caps;
  for (;;) {
    skip_spaces(list);
    if (list.empty()) break;
    const std::string_view token = take_word(list);
    const std::size_t eq = token.find('=');
    if (eq == std::string_view::npos) {
      caps.push_back({std::string(token), {}});
    } else {
      caps.push_back({std::string(token.substr(0, eq)), std::string(token.substr(eq + 1))});
    }
  }
  return caps;
}

sts_policy parse_sts(std::string_view value) {
  // IRCv3 STS: comma-separated keys, each "key" or "key=value"; unknown keys are ignored.
  sts_policy policy;
  while (!value.empty()) {
    const std::size_t comma = std::min(value.find(','), value.size());
    const std::string_view item = value.substr(0, comma);
    value.remove_prefix(std::min(comma + 1, value.size()));
    const std::size_t eq = std::min(item.find('='), item.size());
    const std::string_view key = item.substr(0, eq);
    const std::string_view val = eq < item.size() ? item.substr(eq + 1) : std::string_view{};
    if (key == "port") {
      if (auto p = to_number<unsigned>(val); p && *p > 0 && *p < 65536) policy.port = p;
    } else if (key == "duration") {
      policy.duration = to_number<unsigned long>(val);
    } else if (key == "preload") {
      policy.preload = true;
    }
  }
  return policy;
}

std::optional<cap_reply> parse_cap_reply(const message& m) {
  // "CAP <target> <subcommand> [*] :<list>"; the list may be a bare last word too.
  if (m.command != "CAP" || m.params.size() < 2) return std::nullopt;
  cap_reply r;
  r.subcommand = to_upper(m.params[1]);
  if (m.params.size() >= 4 && m.params[2] == "*") {
    r.more = true;
    r.list = m.params[3];
  } else if (m.params.size() >= 3) {
    r.list = m.params[2];
  }
  return r;
}

}  // namespace otls::proto::irc
