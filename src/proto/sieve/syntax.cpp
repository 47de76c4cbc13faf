// ManageSieve tokens and responses (RFC 5804 §4; capability responses §1.7): an incremental
// tokenizer that never re-reads a finished token and never consumes a line it has not finished.
#include "otls/proto/sieve/syntax.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>

#include "otls/proto/dialect.hpp"

namespace otls::proto::sieve {
namespace {

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::toupper(static_cast<unsigned char>(x)) ==
                  std::toupper(static_cast<unsigned char>(y));
         });
}

// Atoms: anything printable up to a delimiter (RFC 5804 §4 atoms are keywords and response-code
// names; 8-bit octets are tolerated, control characters are not).
bool atom_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u < 0x20 || u == 0x7f) return false;
  return c != ' ' && c != '"' && c != '(' && c != ')' && c != '{';
}

}  // namespace

void tokenizer::feed(std::string_view bytes) {
  if (failed_) return;
  if (auto ec = buffer_.append(bytes)) {
    failed_ = ec;
    detail_ = "more than " + std::to_string(buffer_.limit()) + " octets of unread input";
  }
}

error_code tokenizer::error(error_code ec, std::string detail) {
  detail_ = std::move(detail);
  if (ec != errc::malformed_reply) failed_ = ec;  // limits are final; syntax can be skipped
  return ec;
}

void tokenizer::reset_line() {
  tokens_.clear();
  pos_ = segment_start_ = literal_total_ = literal_due_ = 0;
  in_literal_ = false;
}

result<std::optional<logical_line>> tokenizer::next() {
  using none = std::optional<logical_line>;
  if (failed_) return failed_;
  std::string_view in = buffer_.view();
  if (skipping_) {
    const std::size_t lf = in.find('\n');
    buffer_.consume(lf == std::string_view::npos ? in.size() : lf + 1);
    if (lf == std::string_view::npos) return none{};
    skipping_ = false;
    in = buffer_.view();
  }
  // Waiting for the rest of a token: the physical line so far must still fit.
  const auto more = [&]() -> result<none> {
    if (in.size() - segment_start_ > max_line + 1)
      return error(core::errc::line_too_long,
                   "a line is longer than " + std::to_string(max_line) + " octets");
    return none{};
  };
  for (;;) {
    if (in_literal_) {
      if (in.size() - pos_ < literal_due_) return none{};
      tokens_.push_back({token::kind::string, std::string(in.substr(pos_, literal_due_)), true});
      pos_ += literal_due_;
      segment_start_ = pos_;
      in_literal_ = false;
      continue;
    }
    if (pos_ - segment_start_ > max_line)
      return error(core::errc::line_too_long,
                   "a line is longer than " + std::to_string(max_line) + " octets");
    if (pos_ >= in.size()) return more();
    const char c = in[pos_];
    if (c == ' ' || c == '\t') {
      ++pos_;
      continue;
    }
    if (c == '\r' || c == '\n') {
      std::size_t end = pos_ + 1;
      if (c == '\r') {
        if (end >= in.size()) return more();
        if (in[end] != '\n') return error(errc::malformed_reply, "CR without LF");
        ++end;
      }
      logical_line line{std::move(tokens_), std::string(in.substr(0, end))};
      buffer_.consume(end);
      reset_line();
      return none{std::move(line)};
    }
    if (tokens_.size() >= max_tokens)
      return error(errc::malformed_reply,
                   "more than " + std::to_string(max_tokens) + " tokens in one line");
    if (c == '(' || c == ')') {
      tokens_.push_back({c == '(' ? token::kind::open : token::kind::close, std::string(1, c)});
      ++pos_;
      continue;
    }
    if (c == '"') {
      // quoted = DQUOTE *QUOTED-CHAR DQUOTE; only \" and \\ are escapes (RFC 5804 §4).
      std::string value;
      std::size_t i = pos_ + 1;
      for (;; ++i) {
        if (i >= in.size()) return more();
        const char q = in[i];
        if (q == '"') break;
        if (q == '\\') {
          if (i + 1 >= in.size()) return more();
          const char e = in[i + 1];
          if (e != '"' && e != '\\')
            return error(errc::malformed_reply,
                         "a quoted string escapes something other than "
                         "\\\" or \\\\");
          value += e;
          ++i;
          continue;
        }
        if (q == '\r' || q == '\n' || q == '\0')
          return error(errc::malformed_reply, "CR, LF or NUL inside a quoted string");
        value += q;
      }
      tokens_.push_back({token::kind::string, std::move(value)});
      pos_ = i + 1;
      continue;
    }
    if (c == '{') {
      // literal = "{" number ["+"] "}" CRLF *OCTET; {n+} is the client's form, {n} the
      // server's (RFC 5804 §4); both are read the same way and neither needs a continuation.
      std::size_t i = pos_ + 1;
      std::uint64_t n = 0;
      std::size_t digits = 0;
      while (i < in.size() && std::isdigit(static_cast<unsigned char>(in[i]))) {
        if (++digits > 10) return error(errc::malformed_reply, "literal length too long");
        n = n * 10 + static_cast<unsigned>(in[i] - '0');
        ++i;
      }
      if (i >= in.size()) return more();
      if (digits == 0) return error(errc::malformed_reply, "a literal without a length");
      if (in[i] == '+' && ++i >= in.size()) return more();
      if (in[i] != '}') return error(errc::malformed_reply, "malformed literal header");
      if (++i >= in.size()) return more();
      if (in[i] == '\r' && ++i >= in.size()) return more();
      if (in[i] != '\n') return error(errc::malformed_reply, "a literal header must end the line");
      if (n > max_literal - literal_total_)
        return error(core::errc::line_too_long, "a literal of " + std::to_string(n) +
                                                    " octets exceeds the limit of " +
                                                    std::to_string(max_literal));
      literal_total_ += n;
      literal_due_ = n;
      in_literal_ = true;
      pos_ = i + 1;
      continue;
    }
    std::size_t i = pos_;
    while (i < in.size() && atom_char(in[i])) ++i;
    if (i == pos_) return error(errc::malformed_reply, "control character in a line");
    if (i >= in.size()) return more();  // the atom may go on
    tokens_.push_back({token::kind::atom, std::string(in.substr(pos_, i - pos_))});
    pos_ = i;
  }
}

void tokenizer::skip_line() {
  const std::string_view in = buffer_.view();
  const std::size_t lf = in.find('\n', std::min(pos_, in.size()));
  buffer_.consume(lf == std::string_view::npos ? in.size() : lf + 1);
  skipping_ = lf == std::string_view::npos;
  reset_line();
}

std::string tokenizer::take_leftover() {
  reset_line();
  skipping_ = false;
  return buffer_.take_all();
}

std::string quote(std::string_view s) {
  if (s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos)
    return "{" + std::to_string(s.size()) + "}\r\n" + std::string(s);
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

bool response::has(std::string_view name) const {
  return std::any_of(capabilities.begin(), capabilities.end(),
                     [&](const capability& c) { return iequals(c.name, name); });
}

std::vector<std::string> response::describe_capabilities() const {
  std::vector<std::string> out;
  for (const auto& c : capabilities)
    out.push_back(c.name + (c.value && !c.value->empty() ? " " + *c.value : ""));
  return out;
}

std::vector<std::string> response::as_peer_text() const {
  std::vector<std::string> out;
  for (const auto& c : capabilities)
    out.push_back(quote(c.name) + (c.value ? " " + quote(*c.value) : ""));
  std::string last = what == status::ok ? "OK" : what == status::no ? "NO" : "BYE";
  if (!code.empty()) last += " (" + code + ")";
  if (!text.empty()) last += " " + quote(text);
  out.push_back(std::move(last));
  return out;
}

std::optional<response> parse_status_line(const std::vector<token>& tokens) {
  if (tokens.empty() || tokens[0].what != token::kind::atom) return std::nullopt;
  response r;
  const std::string word = upper(tokens[0].text);
  if (word == "OK") {
    r.what = status::ok;
  } else if (word == "NO") {
    r.what = status::no;
  } else if (word == "BYE") {
    r.what = status::bye;
  } else {
    return std::nullopt;
  }
  std::size_t i = 1;
  // resp-code = "(" ... ")" (RFC 5804 §4); extension data may nest parentheses.
  if (i < tokens.size() && tokens[i].what == token::kind::open) {
    int depth = 0;
    bool space = false;
    for (; i < tokens.size(); ++i) {
      const token& t = tokens[i];
      if (t.what == token::kind::open) {
        if (depth++ > 0) r.code += (space ? " (" : "(");
        space = false;
        continue;
      }
      if (t.what == token::kind::close) {
        if (--depth == 0) break;
        r.code += ")";
        space = true;
        continue;
      }
      if (space) r.code += ' ';
      r.code += t.what == token::kind::string ? quote(t.text) : t.text;
      space = true;
    }
    if (depth != 0) return std::nullopt;
    ++i;
  }
  if (i == tokens.size()) return r;
  if (i + 1 == tokens.size() && tokens[i].what == token::kind::string) {
    r.text = tokens[i].text;
    return r;
  }
  for (; i < tokens.size(); ++i) {
    if (tokens[i].what != token::kind::atom) return std::nullopt;
    r.text += (r.text.empty() ? "" : " ") + tokens[i].text;
  }
  return r;
}

result<std::optional<response>> response_reader::next() {
  for (;;) {
    auto line = tokens_.next();
    if (!line) {
      detail_ = tokens_.detail();
      return line.error();
    }
    if (!*line) return std::optional<response>{};
    const auto& tokens = (*line)->tokens;
    if (!tokens.empty() && tokens[0].what == token::kind::string) {
      // single-capability = capability-name [SP string] CRLF (RFC 5804 §4)
      if (tokens.size() > 2 || (tokens.size() == 2 && tokens[1].what != token::kind::string)) {
        detail_ = "malformed capability line";
        return errc::malformed_reply;
      }
      if (++partial_lines_ >= max_response_lines ||
          partial_raw_.size() + (*line)->raw.size() > max_response_bytes) {
        detail_ = "the response is too long";
        return errc::malformed_reply;
      }
      partial_.capabilities.push_back(
          {upper(tokens[0].text),
           tokens.size() == 2 ? std::optional<std::string>(tokens[1].text) : std::nullopt});
      partial_raw_ += (*line)->raw;
      continue;
    }
    auto status_line = parse_status_line(tokens);
    if (!status_line) {
      detail_ = "neither a capability nor an OK/NO/BYE line";
      return errc::malformed_reply;
    }
    status_line->capabilities = std::move(partial_.capabilities);
    partial_ = {};
    partial_raw_.clear();
    partial_lines_ = 0;
    return std::optional<response>{std::move(*status_line)};
  }
}

std::string response_reader::take_leftover() {
  // The lines of an unfinished response were received too: they count (DESIGN.md rule 1).
  std::string rest = std::move(partial_raw_) + tokens_.take_leftover();
  partial_ = {};
  partial_raw_.clear();
  partial_lines_ = 0;
  return rest;
}

}  // namespace otls::proto::sieve
