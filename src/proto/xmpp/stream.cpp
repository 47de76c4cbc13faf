// XMPP stream reading with expat (RFC 6120 §4, §11.1 restricted XML): one event at a time, the
// parser suspended after each, so that the bytes behind an event are never parsed early.
#include "otls/proto/xmpp/stream.hpp"

#include <algorithm>
#include <deque>

#include <expat.h>

#include "otls/proto/dialect.hpp"

namespace otls::proto::xmpp {
namespace {

// expat reports namespaced names as "URI<sep>local"; URIs cannot hold a space (RFC 3986).
constexpr char ns_separator = ' ';

void split_name(const XML_Char* qualified, std::string& ns, std::string& local) {
  const std::string_view q(qualified);
  const auto sep = q.rfind(ns_separator);
  if (sep == std::string_view::npos) {
    ns.clear();
    local = std::string(q);
  } else {
    ns = std::string(q.substr(0, sep));
    local = std::string(q.substr(sep + 1));
  }
}

bool is_xml_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

void append_xml(const element& e, const std::string& parent_ns, std::string& out,
                std::size_t limit) {
  if (out.size() >= limit) return;
  out += "<" + e.name;
  if (e.ns != parent_ns) out += " xmlns='" + escape(e.ns) + "'";
  for (const auto& [key, value] : e.attributes) out += " " + key + "='" + escape(value) + "'";
  if (e.children.empty() && e.text.empty()) {
    out += "/>";
    return;
  }
  out += ">" + escape(e.text);
  for (const auto& c : e.children) append_xml(c, e.ns, out, limit);
  out += "</" + e.name + ">";
}

}  // namespace

const std::string* element::attribute(std::string_view key) const {
  for (const auto& [k, v] : attributes)
    if (k == key) return &v;
  return nullptr;
}

const element* element::child(std::string_view want_ns, std::string_view want_name) const {
  for (const auto& c : children)
    if (c.is(want_ns, want_name)) return &c;
  return nullptr;
}

std::string element::to_xml() const {
  constexpr std::size_t limit = 2048;
  std::string out;
  append_xml(*this, {}, out, limit);
  if (out.size() > limit) out = out.substr(0, limit) + "...";
  return out;
}

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '\'':
        out += "&apos;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// The expat parser (an owning handle) and the bookkeeping that maps its events to byte offsets.
struct stream_reader::impl {
  struct parser_deleter {
    void operator()(XML_ParserStruct* p) const { XML_ParserFree(p); }
  };
  std::unique_ptr<XML_ParserStruct, parser_deleter> parser;

  std::string unparsed;        // received, not yet handed to expat
  std::string history;         // handed to expat, from absolute offset `base` on
  std::uint64_t base = 0;      // absolute offset of history[0]
  std::uint64_t consumed = 0;  // absolute offset just past the last event returned
  std::deque<std::pair<stream_event, std::uint64_t>> ready;  // events and where they end
  std::vector<element> open;  // elements open below the stream, outermost first
  unsigned depth = 0;         // open elements, the stream included
  std::size_t unit_elements = 0;
  bool suspended = false;
  bool failed = false;
  std::string error;

  impl() : parser(XML_ParserCreateNS("UTF-8", ns_separator)) {
    // RFC 6120 §11.6: UTF-8 only; the argument overrides any declared encoding.
    XML_SetUserData(parser.get(), this);
    XML_SetElementHandler(parser.get(), &impl::on_start, &impl::on_end);
    XML_SetCharacterDataHandler(parser.get(), &impl::on_text);
    // RFC 6120 §11.1: no DTDs, comments, processing instructions or entity declarations.
    XML_SetStartDoctypeDeclHandler(parser.get(), &impl::on_doctype);
    XML_SetEntityDeclHandler(parser.get(), &impl::on_entity);
    XML_SetCommentHandler(parser.get(), &impl::on_comment);
    XML_SetProcessingInstructionHandler(parser.get(), &impl::on_pi);
    XML_SetParamEntityParsing(parser.get(), XML_PARAM_ENTITY_PARSING_NEVER);
#if XML_MAJOR_VERSION > 2 || (XML_MAJOR_VERSION == 2 && XML_MINOR_VERSION >= 6)
    // expat 2.6 may defer parsing a token split across feeds until more input arrives: a
    // <proceed/> split over two reads would then wait for bytes that never come.
    XML_SetReparseDeferralEnabled(parser.get(), XML_FALSE);
#endif
  }

  std::uint64_t event_end() const {
    return static_cast<std::uint64_t>(XML_GetCurrentByteIndex(parser.get())) +
           static_cast<std::uint64_t>(XML_GetCurrentByteCount(parser.get()));
  }

  void refuse(std::string why) {
    if (!failed) error = std::move(why);
    failed = true;
    XML_StopParser(parser.get(), XML_FALSE);
  }

  void emit(stream_event ev) {
    ready.emplace_back(std::move(ev), event_end());
    XML_StopParser(parser.get(), XML_TRUE);  // resumable: the next event waits for next()
  }

  static impl& self(void* data) {
    return *static_cast<impl*>(data);
  }

  static void on_start(void* data, const XML_Char* name, const XML_Char** atts) {
    impl& s = self(data);
    if (s.failed) return;
    if (s.depth >= max_depth)
      return s.refuse("elements nested deeper than " + std::to_string(max_depth) + " levels");
    if (s.depth >= 1 && ++s.unit_elements > max_elements)
      return s.refuse("more than " + std::to_string(max_elements) + " elements in one stanza");
    if (std::char_traits<char>::length(name) > max_name) return s.refuse("element name too long");
    element e;
    split_name(name, e.ns, e.name);
    for (std::size_t i = 0; atts[i] && atts[i + 1]; i += 2) {
      if (e.attributes.size() >= max_attributes) return s.refuse("too many attributes");
      const std::string_view key(atts[i]), value(atts[i + 1]);
      if (key.size() > max_name) return s.refuse("attribute name too long");
      if (value.size() > max_attribute_value) return s.refuse("attribute value too long");
      e.attributes.emplace_back(std::string(key), std::string(value));
    }
    ++s.depth;
    if (s.depth == 1) {
      s.emit({stream_event::kind::stream_open, std::move(e)});
      return;
    }
    if (s.depth == 2) s.unit_elements = 1;
    s.open.push_back(std::move(e));
  }

  static void on_end(void* data, const XML_Char*) {
    impl& s = self(data);
    if (s.failed) return;
    --s.depth;
    if (s.depth == 0) {
      s.emit({stream_event::kind::stream_close, {}});
      return;
    }
    element done = std::move(s.open.back());
    s.open.pop_back();
    if (s.open.empty()) {
      s.emit({stream_event::kind::element, std::move(done)});
      return;
    }
    s.open.back().children.push_back(std::move(done));
  }

  static void on_text(void* data, const XML_Char* text, int len) {
    impl& s = self(data);
    if (s.failed) return;
    const std::string_view t(text, static_cast<std::size_t>(len));
    if (s.open.empty()) {
      // Between top-level elements only whitespace may appear (keepalives, RFC 6120 §4.6.1).
      if (!std::all_of(t.begin(), t.end(), is_xml_space))
        s.refuse("text outside of any element in the stream");
      return;
    }
    std::string& into = s.open.back().text;
    if (into.size() + t.size() > max_text)
      return s.refuse("more than " + std::to_string(max_text) + " bytes of text in an element");
    into.append(t);
  }

  static void on_doctype(void* data, const XML_Char*, const XML_Char*, const XML_Char*, int) {
    self(data).refuse("a document type declaration (forbidden in XMPP, RFC 6120 §11.1)");
  }
  static void on_entity(void* data, const XML_Char*, int, const XML_Char*, int, const XML_Char*,
                        const XML_Char*, const XML_Char*, const XML_Char*) {
    self(data).refuse("an entity declaration (forbidden in XMPP, RFC 6120 §11.1)");
  }
  static void on_comment(void* data, const XML_Char*) {
    self(data).refuse("an XML comment (forbidden in XMPP, RFC 6120 §11.1)");
  }
  static void on_pi(void* data, const XML_Char*, const XML_Char*) {
    self(data).refuse("a processing instruction (forbidden in XMPP, RFC 6120 §11.1)");
  }

  // Runs expat until it yields an event, needs more input or fails.
  void parse() {
    while (ready.empty() && !failed) {
      XML_Status status;
      if (suspended) {
        suspended = false;
        status = XML_ResumeParser(parser.get());
      } else {
        if (unparsed.empty()) return;
        // Bound what one unit (the header, or one top-level element) may take.
        const std::uint64_t held = base + history.size() - consumed;
        if (held >= max_unit_bytes) {
          failed = true;
          error = "more than " + std::to_string(max_unit_bytes) +
                  " bytes without a complete stream header or element";
          return;
        }
        const std::size_t n =
            std::min<std::size_t>(unparsed.size(), static_cast<std::size_t>(max_unit_bytes - held));
        history.append(unparsed, 0, n);
        status = XML_Parse(parser.get(), unparsed.data(), static_cast<int>(n), XML_FALSE);
        unparsed.erase(0, n);
      }
      if (status == XML_STATUS_SUSPENDED) {
        suspended = true;
      } else if (status == XML_STATUS_ERROR && !failed) {
        failed = true;
        const XML_Error code = XML_GetErrorCode(parser.get());
        error = std::string("not well-formed XML: ") + XML_ErrorString(code) + " at line " +
                std::to_string(XML_GetCurrentLineNumber(parser.get())) + ", column " +
                std::to_string(XML_GetCurrentColumnNumber(parser.get()));
      }
    }
  }
};

stream_reader::stream_reader() : impl_(std::make_unique<impl>()) {}
stream_reader::~stream_reader() = default;
stream_reader::stream_reader(stream_reader&&) noexcept = default;
stream_reader& stream_reader::operator=(stream_reader&&) noexcept = default;

void stream_reader::feed(std::string_view bytes) {
  impl_->unparsed.append(bytes);
}

result<std::optional<stream_event>> stream_reader::next() {
  impl& s = *impl_;
  if (s.ready.empty()) s.parse();
  if (!s.ready.empty()) {
    auto [ev, end] = std::move(s.ready.front());
    s.ready.pop_front();
    s.consumed = end;
    // What lies before the event's end is never needed again.
    const auto drop =
        static_cast<std::size_t>(std::min<std::uint64_t>(end - s.base, s.history.size()));
    s.history.erase(0, drop);
    s.base += drop;
    return std::optional<stream_event>{std::move(ev)};
  }
  if (s.failed) return errc::malformed_reply;
  return std::optional<stream_event>{};
}

std::string stream_reader::take_leftover() {
  impl& s = *impl_;
  std::string rest;
  if (s.consumed >= s.base && s.consumed - s.base < s.history.size())
    rest = s.history.substr(static_cast<std::size_t>(s.consumed - s.base));
  rest += s.unparsed;
  impl_ = std::make_unique<impl>();
  return rest;
}

bool stream_reader::holds_input() const {
  const impl& s = *impl_;
  return !s.unparsed.empty() || s.base + s.history.size() > s.consumed;
}

const std::string& stream_reader::error_text() const {
  return impl_->error;
}

}  // namespace otls::proto::xmpp
