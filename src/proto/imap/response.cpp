// IMAP framing with literals and response/command syntax (RFC 9051 §2.2, §4.3, §7, §9;
// RFC 7888 non-synchronizing literals).
#include "otls/proto/imap/response.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>

#include "otls/proto/dialect.hpp"

namespace otls::proto::imap {
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

// ATOM-CHAR: any CHAR except atom-specials: ( ) { SP CTL % * " \ ] (RFC 9051 §9).
bool atom_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u <= 0x20 || u >= 0x7f) return false;
  return std::string_view("(){%*\"\\]").find(c) == std::string_view::npos;
}

bool is_atom(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), atom_char);
}

void skip_spaces(std::string_view& s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
}

// The next space-delimited token; leaves `s` at the space after it (or empty).
std::string_view token(std::string_view& s) {
  const std::size_t end = std::min(s.find(' '), s.size());
  const std::string_view t = s.substr(0, end);
  s.remove_prefix(end);
  return t;
}

std::vector<std::string> split_atoms(std::string_view s) {
  std::vector<std::string> out;
  for (;;) {
    skip_spaces(s);
    if (s.empty()) return out;
    out.emplace_back(token(s));
  }
}

bool all_atoms(std::string_view s) {
  const auto atoms = split_atoms(s);
  return std::all_of(atoms.begin(), atoms.end(), [](const std::string& a) { return is_atom(a); });
}

}  // namespace

std::optional<literal_header> literal_at_end(std::string_view line) {
  if (line.empty() || line.back() != '}') return std::nullopt;
  const std::size_t open = line.rfind('{');
  if (open == std::string_view::npos) return std::nullopt;
  std::string_view digits = line.substr(open + 1, line.size() - open - 2);
  literal_header h;
  if (!digits.empty() && digits.back() == '+') {
    h.synchronizing = false;
    digits.remove_suffix(1);
  }
  if (digits.empty() || !std::all_of(digits.begin(), digits.end(),
                                     [](unsigned char c) { return std::isdigit(c) != 0; }))
    return std::nullopt;
  const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), h.size);
  if (ec != std::errc{}) h.size = std::numeric_limits<std::uint64_t>::max();
  return h;
}

frame_reader::frame_reader(frame_limits limits, core::line_ending ending)
    : buffer_(limits.max_frame + core::line_reader_slack), limits_(limits), ending_(ending) {}

void frame_reader::feed(std::string_view bytes) {
  if (failed_ || !buffer_.append(bytes)) return;
  // Over the limit: one overlong line is named as such, anything else is too much input.
  if (!literal_) {
    const std::string_view pending = buffer_.view().substr(scan_);
    const std::size_t reach = limits_.max_line + 2;  // content, CR, LF
    const bool line_ends_in_reach =
        pending.substr(0, reach).find('\n') != std::string_view::npos ||
        (pending.size() < reach &&
         bytes.substr(0, reach - pending.size()).find('\n') != std::string_view::npos);
    if (!line_ends_in_reach) {
      fail(core::errc::line_too_long);
      return;
    }
  }
  fail(core::errc::buffer_limit);
}

result<std::optional<frame>> frame_reader::next() {
  if (failed_) return failed_;
  for (;;) {
    const std::string_view view = buffer_.view();
    if (literal_) {
      // The literal's octets are data, never lines: CR, LF and "{" inside them mean nothing.
      // An empty literal still waits for the line that continues it: a server must see it
      // pending to send its "+" (RFC 9051 §7.5), and the frame is not complete anyway.
      const std::size_t available = view.size() - scan_;
      if (available < literal_->size || (literal_->size == 0 && available == 0))
        return std::optional<frame>{};
      const auto n = static_cast<std::size_t>(literal_->size);
      partial_.literals.emplace_back(view.substr(scan_, n));
      scan_ += n;
      literal_.reset();
      continue;
    }
    const std::size_t lf = view.find('\n', scan_);
    if (lf == std::string_view::npos) {
      // +1 leaves room for a CR whose LF has not arrived yet.
      if (view.size() - scan_ > limits_.max_line + 1) return fail(core::errc::line_too_long);
      return std::optional<frame>{};
    }
    std::size_t content_end = lf;
    if (lf > scan_ && view[lf - 1] == '\r') {
      --content_end;
    } else if (ending_ == core::line_ending::crlf_only) {
      return fail(core::errc::bare_line_feed);
    }
    if (content_end - scan_ > limits_.max_line) return fail(core::errc::line_too_long);
    const std::string_view line = view.substr(scan_, content_end - scan_);
    frame_size_ += lf + 1 - scan_;
    if (frame_size_ > limits_.max_frame) return fail(core::errc::buffer_limit);
    partial_.text += line;
    scan_ = lf + 1;
    if (auto header = literal_at_end(line)) {
      // Refused before a single octet is buffered for it.
      if (header->size > limits_.max_literal || header->size > limits_.max_frame - frame_size_)
        return fail(core::errc::buffer_limit);
      header->index = partial_.literals.size();
      frame_size_ += static_cast<std::size_t>(header->size);
      literal_ = header;
      continue;
    }
    frame done = std::move(partial_);
    done.raw = std::string(view.substr(0, scan_));
    buffer_.consume(scan_);
    scan_ = 0;
    frame_size_ = 0;
    partial_ = {};
    return std::optional<frame>{std::move(done)};
  }
}

std::optional<literal_header> frame_reader::awaiting_literal() const {
  return literal_;
}

std::string frame_reader::take_leftover() {
  scan_ = 0;
  frame_size_ = 0;
  literal_.reset();
  partial_ = {};
  return buffer_.take_all();
}

bool valid_tag(std::string_view tag) {
  // ASTRING-CHAR = ATOM-CHAR / "]"; "+" is excluded so tags never look like continuations.
  return !tag.empty() && std::all_of(tag.begin(), tag.end(),
                                     [](char c) { return c != '+' && (c == ']' || atom_char(c)); });
}

bool response::is_status() const {
  return type != kind::continuation && (keyword == "OK" || keyword == "NO" || keyword == "BAD" ||
                                        keyword == "PREAUTH" || keyword == "BYE");
}

std::string response::code_name() const {
  std::string_view c = code;
  return upper(token(c));
}

result<response> parse_response(frame f) {
  response r;
  r.line = std::move(f.text);
  r.literals = std::move(f.literals);
  std::string_view s = r.line;
  if (s.empty()) return errc::malformed_reply;
  // continue-req = "+" SP (resp-text / base64); a bare "+" is common enough to accept.
  if (s.front() == '+') {
    if (s.size() > 1 && s[1] != ' ') return errc::malformed_reply;
    r.type = response::kind::continuation;
    s.remove_prefix(1);
    skip_spaces(s);
    r.text = std::string(s);
    return r;
  }
  const std::string_view first = token(s);
  if (first == "*") {
    r.type = response::kind::untagged;
  } else if (valid_tag(first)) {
    r.type = response::kind::tagged;
    r.tag = std::string(first);
  } else {
    return errc::malformed_reply;
  }
  skip_spaces(s);
  std::string_view keyword = token(s);
  // message-data: "* 3 EXISTS", "* 1 FETCH (...)": the keyword follows the number.
  if (r.type == response::kind::untagged && !keyword.empty() &&
      std::all_of(keyword.begin(), keyword.end(),
                  [](unsigned char c) { return std::isdigit(c) != 0; })) {
    skip_spaces(s);
    keyword = token(s);
  }
  if (!is_atom(keyword)) return errc::malformed_reply;
  r.keyword = upper(keyword);
  skip_spaces(s);
  if (r.type == response::kind::tagged && r.keyword != "OK" && r.keyword != "NO" &&
      r.keyword != "BAD")
    return errc::malformed_reply;
  if (r.is_status()) {
    // resp-text = ["[" resp-text-code "]" SP] text; the code ends at the first "]" (§9).
    if (!s.empty() && s.front() == '[') {
      const std::size_t close = s.find(']');
      if (close != std::string_view::npos) {
        r.code = std::string(s.substr(1, close - 1));
        s.remove_prefix(close + 1);
        skip_spaces(s);
      }
    }
    r.text = std::string(s);
    if (r.code_name() == "CAPABILITY" && !all_atoms(r.code)) return errc::malformed_reply;
  } else {
    r.text = std::string(s);
    if (r.keyword == "CAPABILITY" && !all_atoms(r.text)) return errc::malformed_reply;
  }
  return r;
}

std::optional<std::vector<std::string>> capabilities_of(const response& r) {
  if (r.type == response::kind::untagged && r.keyword == "CAPABILITY") return split_atoms(r.text);
  if (r.is_status() && r.code_name() == "CAPABILITY") {
    auto caps = split_atoms(r.code);
    caps.erase(caps.begin());  // the code name itself
    return caps;
  }
  return std::nullopt;
}

bool has_capability(const std::vector<std::string>& caps, std::string_view name) {
  return std::any_of(caps.begin(), caps.end(),
                     [&](const std::string& c) { return iequals(c, name); });
}

std::optional<command> parse_command(const frame& f) {
  std::string_view s = f.text;
  const std::string_view tag = token(s);
  if (!valid_tag(tag)) return std::nullopt;
  command cmd;
  cmd.tag = std::string(tag);
  skip_spaces(s);
  cmd.name = upper(token(s));
  skip_spaces(s);
  cmd.args = std::string(s);
  cmd.literals = f.literals;
  return cmd;
}

}  // namespace otls::proto::imap
