// The expat-based XMPP stream reader (RFC 6120 §4, §11): events one at a time, exact leftovers,
// restricted XML and limits; and the STRIPTLS stripper.
#include "otls/proto/xmpp/stream.hpp"

#include <gtest/gtest.h>

#include "otls/proto/dialect.hpp"
#include "otls/proto/xmpp/offer_stripper.hpp"

namespace otls::proto::xmpp {
namespace {

constexpr std::string_view header =
    "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
    "xmlns:stream='http://etherx.jabber.org/streams' xml:lang='en' id='abc' version='1.0'>";

stream_event expect_event(stream_reader& r) {
  auto ev = r.next();
  EXPECT_TRUE(ev.has_value()) << r.error_text();
  if (!ev || !*ev) {
    ADD_FAILURE() << "no event";
    return {};
  }
  return std::move(**ev);
}

TEST(XmppStream, HeaderElementsAndClose) {
  stream_reader r;
  r.feed(std::string(header) +
         " <stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/>"
         "</starttls></stream:features>\n</stream:stream>");
  auto open = expect_event(r);
  EXPECT_EQ(open.what, stream_event::kind::stream_open);
  EXPECT_TRUE(open.el.is(ns_stream, "stream"));
  ASSERT_NE(open.el.attribute("id"), nullptr);
  EXPECT_EQ(*open.el.attribute("id"), "abc");
  ASSERT_NE(open.el.attribute("http://www.w3.org/XML/1998/namespace lang"), nullptr);
  auto features = expect_event(r);
  EXPECT_TRUE(features.el.is(ns_stream, "features"));
  const element* tls = features.el.child(ns_tls, "starttls");
  ASSERT_NE(tls, nullptr);
  EXPECT_NE(tls->child(ns_tls, "required"), nullptr);
  EXPECT_EQ(expect_event(r).what, stream_event::kind::stream_close);
}

TEST(XmppStream, LeftoverIsExactAtEverySplit) {
  const std::string proceed = "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>";
  const std::string behind = "\r\n<x a='&amp;'>y</x><<garbage";
  const std::string all = std::string(header) + proceed + behind;
  for (std::size_t split = 0; split <= all.size(); ++split) {
    stream_reader r;
    r.feed(all.substr(0, split));
    int events = 0;
    std::string leftover;
    bool fed_rest = false;
    for (int guard = 0; guard < 10; ++guard) {
      auto ev = r.next();
      ASSERT_TRUE(ev.has_value()) << split << ": " << r.error_text();
      if (!*ev) {
        if (fed_rest) break;
        r.feed(all.substr(split));
        fed_rest = true;
        continue;
      }
      if (++events == 2) {
        EXPECT_TRUE((*ev)->el.is(ns_tls, "proceed"));
        if (!fed_rest) {
          r.feed(all.substr(split));
          fed_rest = true;
        }
        leftover = r.take_leftover();
        break;
      }
    }
    EXPECT_EQ(events, 2) << split;
    EXPECT_EQ(leftover, behind) << "split at " << split;
  }
}

TEST(XmppStream, TakeLeftoverStartsAFreshStream) {
  stream_reader r;
  r.feed(std::string(header) + "<a/>");
  expect_event(r);
  expect_event(r);
  EXPECT_EQ(r.take_leftover(), "");
  r.feed(header);
  EXPECT_EQ(expect_event(r).what, stream_event::kind::stream_open);
}

TEST(XmppStream, RestrictedXmlIsRefused) {
  for (const std::string& bad :
       {std::string(header) + "<!-- c --><a/>", std::string(header) + "<?pi x?><a/>",
        std::string("<!DOCTYPE s [<!ENTITY e 'x'>]><s/>"), std::string(header) + "text<a/>",
        std::string(header) + "<a><b></a>", std::string(header) + "<x:a/>"}) {
    stream_reader r;
    r.feed(bad);
    result<std::optional<stream_event>> ev = std::optional<stream_event>{};
    for (int i = 0; i < 4 && ev && (i == 0 || *ev); ++i) ev = r.next();
    EXPECT_FALSE(ev.has_value()) << bad;
    if (!ev) {
      EXPECT_EQ(ev.error(), errc::malformed_reply);
    }
    EXPECT_FALSE(r.error_text().empty());
  }
}

TEST(XmppStream, LimitsAreEnforced) {
  {
    stream_reader r;
    r.feed(std::string(header) + "<a b='" + std::string(max_attribute_value + 1, 'x') + "'/>");
    expect_event(r);
    EXPECT_FALSE(r.next().has_value());
  }
  {
    stream_reader r;
    r.feed(std::string(header) + "<a>" + std::string(max_text + 1, 'x') + "</a>");
    expect_event(r);
    EXPECT_FALSE(r.next().has_value());
  }
  {
    stream_reader r;
    std::string many = std::string(header) + "<a>";
    for (std::size_t i = 0; i < max_elements + 1; ++i) many += "<b/>";
    r.feed(many);
    expect_event(r);
    EXPECT_FALSE(r.next().has_value());
  }
  {
    // One unit may not exceed max_unit_bytes even when it is fed in small pieces.
    stream_reader r;
    r.feed(header);
    expect_event(r);
    r.feed("<a>");
    bool failed = false;
    for (int i = 0; i < 200 && !failed; ++i) {
      r.feed("<b c='" + std::string(900, 'x') + "'/>");
      failed = !r.next().has_value();
    }
    EXPECT_TRUE(failed);
    EXPECT_NE(r.error_text().find("bytes"), std::string::npos) << r.error_text();
  }
}

TEST(XmppStream, UnitLimitIsPerElement) {
  stream_reader r;
  r.feed(header);
  expect_event(r);
  for (int i = 0; i < 200; ++i) {
    r.feed("<a b='" + std::string(900, 'x') + "'/>");
    EXPECT_EQ(expect_event(r).what, stream_event::kind::element);
  }
}

TEST(XmppStripper, RemovesStarttlsWithRequired) {
  offer_stripper s;
  const std::string in =
      "<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>"
      "<mechanisms/></stream:features>";
  std::string out;
  for (const char c : in) out += s.from_server(std::string_view(&c, 1));
  EXPECT_EQ(out, "<stream:features><mechanisms/></stream:features>");
  EXPECT_EQ(s.offers_removed(), 1u);
}

TEST(XmppStripper, RemovesSelfClosedAndKeepsLookalikes) {
  offer_stripper s;
  EXPECT_EQ(s.from_server("<f><starttls xmlns='x'/><starttlsx/></f>"), "<f><starttlsx/></f>");
  EXPECT_EQ(s.offers_removed(), 1u);
}

TEST(XmppStripper, HandshakeAfterProceedPassesUnbuffered) {
  // The TLS bytes behind <proceed/> may end like the start of "<starttls": nothing is held.
  offer_stripper s;
  const std::string hello("\x16\x03\x03\x00\x7a<star", 10);
  EXPECT_EQ(s.from_server("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>" + hello),
            "<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>" + hello);
  EXPECT_EQ(s.from_server("<starttls/>"), "<starttls/>");  // untouched after the go-ahead
  EXPECT_EQ(s.offers_removed(), 0u);
}

TEST(XmppStripper, OversizeGoesThrough) {
  offer_stripper s;
  const std::string big = "<starttls " + std::string(5000, 'a');
  EXPECT_EQ(s.from_server(big), big);
  EXPECT_EQ(s.from_server("<starttls/>"), "<starttls/>");
  EXPECT_EQ(s.offers_removed(), 0u);
}

}  // namespace
}  // namespace otls::proto::xmpp
