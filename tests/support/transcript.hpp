// Transcript testing for sans-I/O dialects: expect_write("EHLO x\r\n").feed("250 ok\r\n")...
// Every step pulls the dialect's next action and checks it, with the transcript position.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "otls/proto/dialect.hpp"

namespace otls::testing {

inline const char* kind_name(proto::action::kind k) {
  switch (k) {
    case proto::action::kind::write:
      return "write";
    case proto::action::kind::need_more:
      return "need_more";
    case proto::action::kind::start_tls:
      return "start_tls";
    case proto::action::kind::done:
      return "done";
    case proto::action::kind::fail:
      return "fail";
    case proto::action::kind::open_data:
      return "open_data";
    case proto::action::kind::finish_data:
      return "finish_data";
  }
  return "?";
}

class transcript {
 public:
  explicit transcript(proto::dialect& d) : d_(d) {}

  transcript& expect_write(std::string_view bytes) {
    const auto a = pull();
    EXPECT_EQ(kind_name(a.what), std::string("write")) << where();
    EXPECT_EQ(a.bytes, bytes) << where();
    return *this;
  }
  // A write whose bytes contain `fragment` (for long multi-line replies).
  transcript& expect_write_containing(std::string_view fragment) {
    const auto a = pull();
    EXPECT_EQ(kind_name(a.what), std::string("write")) << where();
    EXPECT_NE(a.bytes.find(fragment), std::string::npos) << a.bytes << where();
    last_write_ = a.bytes;
    return *this;
  }
  transcript& expect_need_more() { return expect_kind(proto::action::kind::need_more); }
  transcript& expect_done() { return expect_kind(proto::action::kind::done); }
  transcript& expect_start_tls(std::string_view leftover = {}) {
    expect_kind(proto::action::kind::start_tls);
    EXPECT_EQ(d_.take_leftover(), leftover) << where();
    return *this;
  }
  transcript& expect_fail(error_code ec) {
    const auto a = pull();
    EXPECT_EQ(kind_name(a.what), std::string("fail")) << where();
    EXPECT_EQ(a.error, ec) << a.error.message() << where();
    return *this;
  }
  // open_data to `port` (TLS or not); `advertised`: the address a PASV reply named.
  transcript& expect_open_data(std::uint16_t port, bool tls, std::string_view advertised = {}) {
    const auto a = pull();
    EXPECT_EQ(kind_name(a.what), std::string("open_data")) << where();
    EXPECT_EQ(a.data_port, port) << where();
    EXPECT_EQ(a.data_tls, tls) << where();
    EXPECT_EQ(a.bytes, advertised) << where();
    return *this;
  }
  transcript& expect_finish_data() { return expect_kind(proto::action::kind::finish_data); }
  transcript& data_opened(error_code ec = {}) {
    d_.on_data_opened(ec);
    return *this;
  }
  transcript& data_finished(std::string_view received, error_code ec = {}) {
    d_.on_data_finished(ec, received);
    return *this;
  }
  transcript& feed(std::string_view bytes) {
    d_.feed(bytes);
    return *this;
  }
  transcript& eof() {
    d_.on_eof();
    return *this;
  }
  transcript& tls_established() {
    d_.on_tls_established();
    return *this;
  }
  const std::string& last_write() const { return last_write_; }

 private:
  transcript& expect_kind(proto::action::kind k) {
    const auto a = pull();
    EXPECT_EQ(kind_name(a.what), std::string(kind_name(k)))
        << (a.what == proto::action::kind::write ? "wrote: " + a.bytes : a.error.message())
        << where();
    return *this;
  }
  proto::action pull() {
    ++step_;
    return d_.next();
  }
  std::string where() const { return " (transcript step " + std::to_string(step_) + ")"; }

  proto::dialect& d_;
  int step_ = 0;
  std::string last_write_;
};

}  // namespace otls::testing
