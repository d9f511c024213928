#include <gtest/gtest.h>

#include <chrono>
#include <utility>
#include <vector>

#include "fake_clock.h"
#include "resilience/circuit_breaker.h"

namespace tokenizer {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using State = BreakerState;

constexpr auto kFast = milliseconds(10);
constexpr auto kSlow = milliseconds(2500);

class CircuitBreakerTest : public ::testing::Test {
 protected:
  CircuitBreakerTest()
      : breaker_("vault", CircuitBreakerConfig{}, clock_,
                 [this](State from, State to) { transitions_.emplace_back(from, to); }) {}

  // One permitted call with the given result; fails the test if it was not permitted.
  void call(CallResult result) {
    const auto permit = breaker_.try_acquire();
    ASSERT_TRUE(permit.allowed());
    breaker_.record(permit, result);
  }
  void calls(int n, CallResult result) {
    for (int i = 0; i < n; ++i) call(result);
  }
  void open_it() {
    calls(20, CallResult::failure(kFast));
    ASSERT_EQ(breaker_.state(), State::open);
  }
  void half_open_it() {
    open_it();
    clock_.advance(seconds(5));
    ASSERT_EQ(breaker_.state(), State::half_open);
  }

  testing::FakeClock clock_;
  std::vector<std::pair<State, State>> transitions_;
  CircuitBreaker breaker_;
};

TEST_F(CircuitBreakerTest, StartsClosedAndNamesItsStates) {
  EXPECT_EQ(breaker_.state(), State::closed);
  EXPECT_STREQ(breaker_.state_name(), "closed");
  EXPECT_STREQ(breaker_state_name(State::open), "open");
  EXPECT_STREQ(breaker_state_name(State::half_open), "half_open");
  EXPECT_EQ(breaker_.name(), "vault");
  EXPECT_FALSE(CircuitBreaker::Permit().allowed());
}

TEST_F(CircuitBreakerTest, StaysClosedBelowTheMinimumNumberOfCalls) {
  calls(19, CallResult::failure(kFast));
  EXPECT_EQ(breaker_.state(), State::closed);
  EXPECT_EQ(breaker_.snapshot().failures, 19);
  call(CallResult::failure(kFast));  // the 20th call: 100 % failures
  EXPECT_EQ(breaker_.state(), State::open);
  EXPECT_STREQ(breaker_.state_name(), "open");
  ASSERT_EQ(transitions_.size(), 1u);
  EXPECT_EQ(transitions_[0], std::make_pair(State::closed, State::open));
}

TEST_F(CircuitBreakerTest, OpensAtTheFailureRateThreshold) {
  calls(11, CallResult::success(kFast));
  calls(9, CallResult::failure(kFast));  // 9 / 20 = 45 %
  EXPECT_EQ(breaker_.state(), State::closed);
  call(CallResult::failure(kFast));  // 10 / 21 = 47.6 %
  EXPECT_EQ(breaker_.state(), State::closed);
  call(CallResult::failure(kFast));  // 11 / 22 = 50 %
  EXPECT_EQ(breaker_.state(), State::open);
}

TEST_F(CircuitBreakerTest, SlowCallRateOpensItEvenWhenCallsSucceed) {
  calls(5, CallResult::success(kFast));
  calls(15, CallResult::success(kSlow));  // 75 % slow
  EXPECT_EQ(breaker_.state(), State::closed);
  EXPECT_EQ(breaker_.snapshot().slow_calls, 15);
  call(CallResult::success(milliseconds(2000)));  // exactly the threshold counts: 16 / 21 = 76 %
  EXPECT_EQ(breaker_.state(), State::closed);
  call(CallResult::success(kSlow));  // 17 / 22 = 77 %
  call(CallResult::success(kSlow));  // 18 / 23 = 78 %
  call(CallResult::success(kSlow));  // 19 / 24 = 79 %
  EXPECT_EQ(breaker_.state(), State::closed);
  call(CallResult::success(kSlow));  // 20 / 25 = 80 %
  EXPECT_EQ(breaker_.state(), State::open);
}

TEST_F(CircuitBreakerTest, OpenRejectsWithTheRemainingOpenTime) {
  open_it();
  auto p = breaker_.try_acquire();
  EXPECT_FALSE(p.allowed());
  EXPECT_EQ(p.retry_after(), milliseconds(5000));
  clock_.advance(milliseconds(1500));
  p = breaker_.try_acquire();
  EXPECT_FALSE(p);
  EXPECT_EQ(p.retry_after(), milliseconds(3500));
  clock_.advance(std::chrono::microseconds(3499500));  // 0.5 ms left: rounded up
  p = breaker_.try_acquire();
  EXPECT_FALSE(p);
  EXPECT_EQ(p.retry_after(), milliseconds(1));
  EXPECT_EQ(breaker_.snapshot().open_remaining, milliseconds(1));
  EXPECT_EQ(breaker_.state(), State::open);
}

TEST_F(CircuitBreakerTest, OpenBecomesHalfOpenAfterTheWaitOnTheNextCall) {
  open_it();
  clock_.advance(seconds(5));
  const auto p = breaker_.try_acquire();
  EXPECT_TRUE(p.allowed());
  EXPECT_TRUE(p.probe());
  EXPECT_EQ(breaker_.state(), State::half_open);
  ASSERT_EQ(transitions_.size(), 2u);
  EXPECT_EQ(transitions_[1], std::make_pair(State::open, State::half_open));
}

TEST_F(CircuitBreakerTest, HalfOpenPermitsOnlyTheConfiguredProbes) {
  half_open_it();
  const auto p1 = breaker_.try_acquire();
  const auto p2 = breaker_.try_acquire();
  const auto p3 = breaker_.try_acquire();
  EXPECT_TRUE(p1 && p2 && p3);
  const auto p4 = breaker_.try_acquire();
  EXPECT_FALSE(p4.allowed());
  EXPECT_EQ(p4.retry_after(), milliseconds(0));
  EXPECT_EQ(breaker_.snapshot().probes_in_use, 3);
  // A released (abandoned) probe gives its slot back.
  breaker_.release(p2);
  EXPECT_EQ(breaker_.snapshot().probes_in_use, 2);
  const auto p5 = breaker_.try_acquire();
  EXPECT_TRUE(p5.allowed());
  EXPECT_FALSE(breaker_.try_acquire().allowed());
  // A succeeded probe does not: three probes decide, no more are sent meanwhile.
  breaker_.record(p1, CallResult::success(kFast));
  EXPECT_FALSE(breaker_.try_acquire().allowed());
  EXPECT_EQ(breaker_.state(), State::half_open);
}

TEST_F(CircuitBreakerTest, HalfOpenClosesWhenAllProbesSucceed) {
  half_open_it();
  const auto p1 = breaker_.try_acquire();
  const auto p2 = breaker_.try_acquire();
  const auto p3 = breaker_.try_acquire();
  breaker_.record(p1, CallResult::success(kFast));
  breaker_.record(p2, CallResult::success(kFast));
  EXPECT_EQ(breaker_.state(), State::half_open);
  EXPECT_EQ(breaker_.snapshot().probe_successes, 2);
  breaker_.record(p3, CallResult::success(kFast));
  EXPECT_EQ(breaker_.state(), State::closed);
  ASSERT_EQ(transitions_.size(), 3u);
  EXPECT_EQ(transitions_[2], std::make_pair(State::half_open, State::closed));
  // The window starts empty: 19 new failures do not reopen it.
  EXPECT_EQ(breaker_.snapshot().calls, 0);
  calls(19, CallResult::failure(kFast));
  EXPECT_EQ(breaker_.state(), State::closed);
}

TEST_F(CircuitBreakerTest, HalfOpenProbeFailureReopens) {
  half_open_it();
  const auto p1 = breaker_.try_acquire();
  const auto p2 = breaker_.try_acquire();
  breaker_.record(p1, CallResult::success(kFast));
  breaker_.record(p2, CallResult::failure(kFast));
  EXPECT_EQ(breaker_.state(), State::open);
  EXPECT_EQ(transitions_.back(), std::make_pair(State::half_open, State::open));
  const auto rejected = breaker_.try_acquire();
  EXPECT_FALSE(rejected);
  EXPECT_EQ(rejected.retry_after(), milliseconds(5000));  // a full new open period
}

TEST_F(CircuitBreakerTest, HalfOpenSlowProbeReopens) {
  half_open_it();
  const auto p = breaker_.try_acquire();
  breaker_.record(p, CallResult::success(kSlow));
  EXPECT_EQ(breaker_.state(), State::open);
}

TEST_F(CircuitBreakerTest, PermitsFromAnEarlierPeriodAreIgnored) {
  const auto old_permit = breaker_.try_acquire();  // closed period
  half_open_it();
  breaker_.record(old_permit, CallResult::failure(kFast));
  EXPECT_EQ(breaker_.state(), State::half_open);  // the straddling call did not reopen it
  const auto probe = breaker_.try_acquire();
  breaker_.record(probe, CallResult::failure(kFast));
  EXPECT_EQ(breaker_.state(), State::open);
  clock_.advance(seconds(5));
  EXPECT_EQ(breaker_.state(), State::half_open);
  // The probe of the previous half-open period cannot close or reopen this one.
  breaker_.record(probe, CallResult::failure(kFast));
  breaker_.release(probe);
  EXPECT_EQ(breaker_.state(), State::half_open);
  EXPECT_EQ(breaker_.snapshot().probes_in_use, 0);
}

TEST_F(CircuitBreakerTest, RejectedPermitsAreNotRecorded) {
  open_it();
  const auto rejected = breaker_.try_acquire();
  breaker_.record(rejected, CallResult::failure(kFast));
  clock_.advance(seconds(5));
  EXPECT_EQ(breaker_.state(), State::half_open);
}

TEST_F(CircuitBreakerTest, TheWindowSlides) {
  calls(19, CallResult::failure(kFast));  // t = 0
  clock_.advance(seconds(10));            // their bucket left the window
  call(CallResult::failure(kFast));
  EXPECT_EQ(breaker_.state(), State::closed);
  EXPECT_EQ(breaker_.snapshot().calls, 1);
  clock_.advance(seconds(5));
  calls(18, CallResult::failure(kFast));  // t = 15 s: 19 calls in the window
  EXPECT_EQ(breaker_.state(), State::closed);
  clock_.advance(milliseconds(4999));  // t = 19.999 s: all still inside
  call(CallResult::failure(kFast));
  EXPECT_EQ(breaker_.state(), State::open);
}

TEST_F(CircuitBreakerTest, ObserverMayReadTheBreaker) {
  // The observer runs outside the lock: reading the state from it must not deadlock.
  std::vector<State> seen;
  breaker_.set_transition_observer(
      [this, &seen](State, State) { seen.push_back(breaker_.state()); });
  open_it();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0], State::open);
}

TEST(CircuitBreakerConfigTest, DisabledTriggersAndCustomThresholds) {
  testing::FakeClock clock;
  CircuitBreakerConfig config;
  config.min_calls = 4;
  config.failure_rate_percent = 0;  // only slowness opens it
  config.slow_call_duration = milliseconds(100);
  config.slow_call_rate_percent = 50;
  config.half_open_probes = 1;
  config.open_duration = milliseconds(200);
  CircuitBreaker breaker("vault", config, clock);
  for (int i = 0; i < 10; ++i)
    breaker.record(breaker.try_acquire(), CallResult::failure(milliseconds(1)));
  EXPECT_EQ(breaker.state(), State::closed);
  breaker.record(breaker.try_acquire(), CallResult::success(milliseconds(100)));
  for (int i = 0; i < 9; ++i)
    breaker.record(breaker.try_acquire(), CallResult::success(milliseconds(150)));
  EXPECT_EQ(breaker.state(), State::open);
  clock.advance(milliseconds(200));
  const auto probe = breaker.try_acquire();
  EXPECT_TRUE(probe.allowed());
  EXPECT_FALSE(breaker.try_acquire().allowed());
  breaker.record(probe, CallResult::success(milliseconds(1)));
  EXPECT_EQ(breaker.state(), State::closed);
}

}  // namespace
}  // namespace tokenizer
