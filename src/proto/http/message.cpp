// HTTP/1.1 message reading with Boost.Beast's parser (RFC 9112 §2-§7 framing, RFC 9110 §5.6.1
// lists), bounded per DESIGN.md rule 5, never reading past the message it returns.
#include "otls/proto/http/message.hpp"

#include <algorithm>
#include <type_traits>
#include <utility>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "otls/proto/dialect.hpp"

namespace otls::proto::http {
namespace {

namespace bhttp = boost::beast::http;

// Bytes held at most: a full header and body plus one driver read behind them. More means the
// peer is flooding us while we are not reading (e.g. after a complete message).
constexpr std::size_t max_buffered = max_header_bytes + max_body_bytes + 16 * 1024;
constexpr std::size_t max_report_lines = 32;

constexpr auto trim = core::trim_blanks;

std::string version_text(unsigned version) {
  return "HTTP/" + std::to_string(version / 10) + "." + std::to_string(version % 10);
}

template <class Message>
struct beast_parser;
template <>
struct beast_parser<response> {
  using type = bhttp::response_parser<bhttp::string_body>;
};
template <>
struct beast_parser<request> {
  using type = bhttp::request_parser<bhttp::string_body>;
};

void copy_fields(const auto& beast_message, message_base& out) {
  out.version = beast_message.version();
  for (const auto& f : beast_message)
    out.fields.push_back({std::string(f.name_string()), std::string(f.value())});
  out.body = beast_message.body();
}

response convert(bhttp::response<bhttp::string_body>&& m) {
  response r;
  copy_fields(m, r);
  r.status = m.result_int();
  r.reason = std::string(m.reason());
  return r;
}

request convert(bhttp::request<bhttp::string_body>&& m) {
  request r;
  copy_fields(m, r);
  r.method = std::string(m.method_string());
  r.target = std::string(m.target());
  return r;
}

}  // namespace

// ---- message_base -----------------------------------------------------------------------------

std::optional<std::string> message_base::get(std::string_view name) const {
  std::optional<std::string> out;
  for (const auto& f : fields) {
    if (!iequals(f.name, name)) continue;
    out = out ? *out + ", " + f.value : f.value;
  }
  return out;
}

std::vector<std::string> message_base::tokens(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& f : fields) {
    if (!iequals(f.name, name)) continue;
    std::string_view rest = f.value;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      const auto item = trim(rest.substr(0, comma));
      if (!item.empty()) out.emplace_back(item);
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    }
  }
  return out;
}

bool message_base::lists(std::string_view name, std::string_view token) const {
  const auto all = tokens(name);
  return std::any_of(all.begin(), all.end(),
                     [&](const std::string& t) { return iequals(t, token); });
}

bool message_base::upgrade_lists_tls() const {
  // RFC 2817 §3.1 names "TLS/1.0"; a protocol token is name["/" version] (RFC 9110 §7.8), so
  // any TLS/1.x is accepted, and the bare name too: the handshake negotiates the version.
  for (const auto& t : tokens("Upgrade")) {
    const std::string_view token = t;
    if (iequals(token, "TLS")) return true;
    if (token.size() >= 6 && iequals(token.substr(0, 6), "TLS/1.")) return true;
  }
  return false;
}

std::vector<std::string> message_base::header_lines() const {
  std::vector<std::string> out;
  for (const auto& f : fields) {
    if (out.size() == max_report_lines) break;
    out.push_back(printable(f.name + ": " + f.value));
  }
  return out;
}

std::string response::status_line() const {
  return printable(version_text(version) + " " + std::to_string(status) +
                   (reason.empty() ? "" : " " + reason));
}

std::vector<std::string> response::as_peer_text() const {
  std::vector<std::string> out{status_line()};
  for (auto& line : header_lines()) out.push_back(std::move(line));
  return out;
}

std::string request::request_line() const {
  return printable(method + " " + target + " " + version_text(version));
}

std::string printable(std::string_view text, std::size_t limit) {
  std::string out;
  for (const char c : text.substr(0, limit))
    out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  if (text.size() > limit) out += "...";
  return out;
}

// ---- message_reader ---------------------------------------------------------------------------

template <class Message>
struct message_reader<Message>::impl {
  using parser_type = typename beast_parser<Message>::type;

  bool header_only = false;
  std::string buffer;
  std::optional<parser_type> parser;
  bool eof = false;
  bool overflow = false;
  std::string detail;

  void fresh_parser() {
    parser.emplace();
    parser->header_limit(static_cast<std::uint32_t>(max_header_bytes));
    // Header only: the body is never parsed, so its announced length must not be refused.
    if (header_only)
      parser->body_limit(boost::none);
    else
      parser->body_limit(max_body_bytes);
    // Eager: the body is parsed in the same put() as the header. Beast stops at the message's
    // end either way, so bytes behind it stay in `buffer`.
    parser->eager(!header_only);
  }

  // Beast parses nothing until the whole header is buffered; a response that does not even
  // begin like one (an SMTP greeting, a TLS alert) is refused at once instead of waiting for
  // the header limit or a timeout.
  bool starts_wrong() const {
    if constexpr (std::is_same_v<Message, response>) {
      constexpr std::string_view prefix = "HTTP/";
      const std::size_t n = std::min(buffer.size(), prefix.size());
      return !parser->got_some() && buffer.compare(0, n, prefix.substr(0, n)) != 0;
    }
    return false;
  }

  result<std::optional<Message>> failed(std::string why) {
    detail = std::move(why);
    return error_code(errc::malformed_reply);
  }

  result<std::optional<Message>> next() {
    if (!parser) fresh_parser();
    if (overflow) return failed("more than " + std::to_string(max_buffered) + " bytes unread");
    if (starts_wrong()) return failed("does not begin with \"HTTP/\": " + printable(buffer, 60));
    boost::system::error_code ec;
    while (!buffer.empty() && !parser->is_done() && !(header_only && parser->is_header_done())) {
      const std::size_t used = parser->put(boost::asio::buffer(buffer.data(), buffer.size()), ec);
      buffer.erase(0, used);
      if (ec == bhttp::error::need_more) break;
      if (ec == bhttp::error::header_limit)
        return failed("header larger than " + std::to_string(max_header_bytes) + " bytes");
      if (ec == bhttp::error::body_limit)
        return failed("body larger than " + std::to_string(max_body_bytes) + " bytes");
      if (ec) return failed("not HTTP/1.x (" + ec.message() + ")");
      if (used == 0) break;  // nothing consumed and no error: wait for more rather than spin
    }
    if (header_only && parser->is_header_done()) {
      Message m = convert(parser->release());
      parser.reset();
      return std::optional<Message>{std::move(m)};
    }
    if (!parser->is_done() && eof && parser->is_header_done()) {
      // A body delimited by the close (RFC 9112 §6.3 rule 8) ends here; anything else is cut.
      ec = {};
      parser->put_eof(ec);
    }
    if (!parser->is_done()) return std::optional<Message>{};
    Message m = convert(parser->release());
    parser.reset();
    return std::optional<Message>{std::move(m)};
  }
};

template <class Message>
message_reader<Message>::message_reader(bool header_only) : impl_(std::make_unique<impl>()) {
  impl_->header_only = header_only;
}
template <class Message>
message_reader<Message>::~message_reader() = default;
template <class Message>
message_reader<Message>::message_reader(message_reader&&) noexcept = default;
template <class Message>
message_reader<Message>& message_reader<Message>::operator=(message_reader&&) noexcept = default;

template <class Message>
void message_reader<Message>::feed(std::string_view bytes) {
  const std::size_t room = max_buffered - std::min(max_buffered, impl_->buffer.size());
  if (bytes.size() > room) impl_->overflow = true;
  impl_->buffer.append(bytes.substr(0, room));
}

template <class Message>
void message_reader<Message>::on_eof() {
  impl_->eof = true;
}

template <class Message>
result<std::optional<Message>> message_reader<Message>::next() {
  return impl_->next();
}

template <class Message>
std::string message_reader<Message>::take_leftover() {
  std::string out = std::exchange(impl_->buffer, {});
  impl_->parser.reset();
  impl_->overflow = false;
  return out;
}

template <class Message>
bool message_reader<Message>::mid_message() const {
  return !impl_->buffer.empty() || (impl_->parser && impl_->parser->got_some());
}

template <class Message>
const std::string& message_reader<Message>::error_detail() const {
  return impl_->detail;
}

template class message_reader<response>;
template class message_reader<request>;

}  // namespace otls::proto::http
