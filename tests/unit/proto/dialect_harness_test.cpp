// Tests of the shared dialect test harness itself: the fail-count sweep and the client/server
// pump must report the faults they exist to catch, or every sweep using them could pass vacuously.
#include "dialect_harness.hpp"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

namespace otls::testing {
namespace {

using proto::action;

// A client that accepts whatever it is fed: after `replies` feeds it is done, EOF earlier fails.
// Optionally it asks for start_tls after the first reply with `leftover` unread.
class gullible_client : public proto::dialect {
 public:
  explicit gullible_client(int replies, std::string leftover = {}, bool never_ends = false)
      : replies_(replies), leftover_(std::move(leftover)), never_ends_(never_ends) {}

  void feed(std::string_view) override { ++fed_; }
  void on_eof() override { eof_ = true; }
  action next() override {
    if (never_ends_) return action::write("noise\r\n");
    if (fed_ == 1 && !tls_ && !leftover_.empty()) return tls_ = true, action::start_tls();
    if (fed_ >= replies_) return action::done();
    if (eof_) return action::fail(proto::errc::unexpected_close);
    return action::need_more();
  }
  std::string take_leftover() override { return std::exchange(leftover_, {}); }
  void on_tls_established() override {}
  const proto::session_facts& facts() const override { return facts_; }
  const diagnostics& diag() const override { return diag_; }

 private:
  int replies_;
  std::string leftover_;
  bool never_ends_;
  int fed_ = 0;
  bool eof_ = false, tls_ = false;
  proto::session_facts facts_;
  diagnostics diag_;
};

const std::vector<std::string>& script() {
  static const std::vector<std::string> s{"hello\r\n", "bye\r\n"};
  return s;
}
// One reply, so that a client escaping every case makes exactly one failure.
const std::vector<std::string>& one_reply() {
  static const std::vector<std::string> s{"hello\r\n"};
  return s;
}

TEST(DialectHarness, RunWithFaultClassifiesEnds) {
  gullible_client early(2);
  EXPECT_EQ(run_with_fault(early, script(), 0, "").end, sweep_end::failed);
  gullible_client late(2);
  EXPECT_EQ(run_with_fault(late, script(), 1, "x").end, sweep_end::completed);
  gullible_client noisy(2, {}, true);
  const auto r = run_with_fault(noisy, script(), 0, "", 10);
  EXPECT_EQ(r.end, sweep_end::no_end);
  EXPECT_EQ(r.steps, 10u);
  gullible_client injected(2, "junk");
  const auto l = run_with_fault(injected, script(), 1, "");
  EXPECT_EQ(l.end, sweep_end::refused_leftover);
  EXPECT_EQ(l.leftover, "junk");
}

void sweep_gullible() {
  fail_count_sweep([] { return std::make_unique<gullible_client>(2); }, script(), {"x"});
}
void sweep_noisy() {
  fail_count_sweep([] { return std::make_unique<gullible_client>(2, "", true); }, one_reply(),
                   {""});
}
void sweep_leftover_strict() {
  fail_count_sweep([] { return std::make_unique<gullible_client>(3, "junk"); }, one_reply(), {""});
}
void sweep_nothing() {
  fail_count_sweep([] { return std::make_unique<gullible_client>(2); }, script(),
                   std::vector<std::string>{});
}

TEST(DialectHarness, SweepReportsEveryKindOfEscape) {
  EXPECT_NONFATAL_FAILURE(sweep_gullible(), "completed despite the fault");
  EXPECT_NONFATAL_FAILURE(sweep_noisy(), "no end within 64 steps");
  EXPECT_NONFATAL_FAILURE(sweep_leftover_strict(), "bytes after the go-ahead");
  EXPECT_NONFATAL_FAILURE(sweep_nothing(), "the sweep ran no case");
}

TEST(DialectHarness, SweepOptionsAllowOnlyWhatTheyName) {
  sweep_options o;
  o.leftover_ends_session = true;
  o.may_complete = [](std::size_t k, const std::string&) { return k == 1; };
  const auto cases =
      fail_count_sweep([] { return std::make_unique<gullible_client>(2); }, script(), {"x"}, o);
  ASSERT_EQ(cases.size(), 2u);
  EXPECT_EQ(cases[0].end, sweep_end::failed);
  EXPECT_EQ(cases[1].end, sweep_end::completed);
}

void pair_of_waiters() {
  gullible_client c(5), s(5);
  run_pair(c, s);
}

TEST(DialectHarness, RunPairReportsAPairThatNeverEnds) {
  EXPECT_NONFATAL_FAILURE(pair_of_waiters(), "no end within 200 steps");
}

}  // namespace
}  // namespace otls::testing
