// Many threads on one breaker, budget, shedder and executor: invariants hold and the
// thread sanitizer (-DTOKENIZER_TSAN=ON) has real contention to look at. No sleeps: the
// fake clock is moved by one of the threads; waits use a condition with a generous deadline.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/random.h"
#include "fake_clock.h"
#include "resilience/circuit_breaker.h"
#include "resilience/load_shedder.h"
#include "resilience/retry_budget.h"
#include "resilience/retry_executor.h"
#include "resilience/timer_scheduler.h"

namespace tokenizer {
namespace {

using std::chrono::milliseconds;
constexpr int kThreads = 4;

bool valid_transition(BreakerState from, BreakerState to) {
  return (from == BreakerState::closed && to == BreakerState::open) ||
         (from == BreakerState::open && to == BreakerState::half_open) ||
         (from == BreakerState::half_open && to == BreakerState::closed) ||
         (from == BreakerState::half_open && to == BreakerState::open);
}

TEST(Concurrency, BreakerKeepsItsInvariantsUnderManyThreads) {
  testing::FakeClock clock;
  CircuitBreakerConfig config;
  config.open_duration = milliseconds(500);
  std::mutex mu;
  std::vector<std::pair<BreakerState, BreakerState>> transitions;
  CircuitBreaker breaker("vault", config, clock, [&](BreakerState from, BreakerState to) {
    std::lock_guard<std::mutex> lock(mu);
    transitions.emplace_back(from, to);
  });
  std::atomic<int> max_probes{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < kThreads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < 20000; ++i) {
        if (i % 10 == 0) clock.advance(milliseconds(1));  // 8 s of fake time in all
        const auto permit = breaker.try_acquire();
        if (!permit) continue;
        const auto s = breaker.snapshot();
        if (s.probes_in_use > max_probes.load()) max_probes.store(s.probes_in_use);
        const int phase = (i / 2000) % 2;  // alternate failing and healthy phases
        if ((i + t) % 7 == 0) {
          breaker.release(permit);
        } else if (phase == 0 && (i + t) % 3 != 0) {
          breaker.record(permit, CallResult::failure(milliseconds(1)));
        } else {
          breaker.record(permit, CallResult::success(milliseconds(1)));
        }
      }
    });
  }
  for (auto& w : workers) w.join();

  EXPECT_LE(max_probes.load(), config.half_open_probes);
  std::lock_guard<std::mutex> lock(mu);
  // The first failing phase opened it, and time moved on enough to probe it again.
  ASSERT_GE(transitions.size(), 2u);
  EXPECT_EQ(transitions[1], std::make_pair(BreakerState::open, BreakerState::half_open));
  EXPECT_EQ(transitions.front().first, BreakerState::closed);
  for (std::size_t i = 0; i < transitions.size(); ++i) {
    EXPECT_TRUE(valid_transition(transitions[i].first, transitions[i].second)) << i;
    if (i > 0) {
      EXPECT_EQ(transitions[i].first, transitions[i - 1].second)
          << "delivered out of order at " << i;
    }
  }
  EXPECT_EQ(transitions.back().second, breaker.state());
}

TEST(Concurrency, BudgetNeverGrantsMoreThanAllowed) {
  testing::FakeClock clock;  // time stands still: one window
  RetryBudget budget({20, 10, milliseconds(10000), 10}, clock);
  std::atomic<int> granted{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < kThreads; ++t) {
    workers.emplace_back([&] {
      for (int i = 0; i < 5000; ++i) {
        budget.record_request();
        if (budget.try_acquire_retry()) ++granted;
        if (budget.try_acquire_retry()) ++granted;
      }
    });
  }
  for (auto& w : workers) w.join();
  const auto s = budget.snapshot();
  EXPECT_EQ(s.requests, kThreads * 5000);
  EXPECT_EQ(s.allowed, kThreads * 5000 / 5);
  EXPECT_EQ(s.retries, granted.load());
  // Demand (2 per request) always exceeds supply, so every allowed retry is granted.
  EXPECT_EQ(granted.load(), s.allowed);
}

TEST(Concurrency, LoadShedderNeverExceedsItsLimit) {
  LoadShedder shedder(3);
  std::atomic<int> max_seen{0};
  std::atomic<int> entered{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < kThreads; ++t) {
    workers.emplace_back([&] {
      for (int i = 0; i < 20000; ++i) {
        auto token = shedder.try_enter();
        if (!token) continue;
        ++entered;
        const int now = shedder.in_flight();
        if (now > max_seen.load()) max_seen.store(now);
      }
    });
  }
  for (auto& w : workers) w.join();
  EXPECT_LE(max_seen.load(), 3);
  EXPECT_GE(max_seen.load(), 1);
  EXPECT_EQ(shedder.in_flight(), 0);
  EXPECT_EQ(static_cast<std::uint64_t>(entered.load()) + shedder.shed_total(),
            static_cast<std::uint64_t>(kThreads) * 20000u);
}

TEST(Concurrency, ExecutorOnRealThreadsAnswersEveryCallOnce) {
  const Clock& clock = SystemClock::instance();
  TimerScheduler scheduler(clock);
  CircuitBreakerConfig breaker_config;
  breaker_config.min_calls = 1000000;  // every first attempt fails: keep the breaker out of it
  CircuitBreaker breaker("vault", breaker_config, clock);
  RetryBudgetConfig budget_config;
  budget_config.percent = 100;
  RetryBudget budget(budget_config, clock);
  RetryExecutor executor({}, RetryPolicy(RetryPolicyConfig{}),
                         Backoff({milliseconds(1), milliseconds(5)}), breaker, budget, scheduler,
                         clock, SystemRandom::instance());
  constexpr int kCalls = 64;
  std::mutex mu;
  std::condition_variable cv;
  int done = 0;
  int two_attempt_successes = 0;
  auto attempt = [&scheduler](const AttemptContext& ctx, AttemptCallback report) {
    // Report from the timer thread, like a transport reporting from its event loop.
    scheduler.schedule(milliseconds(0), [ctx, report] {
      AttemptReport r;
      r.cls = ctx.attempt_number == 1 ? AttemptClass::connect_failed : AttemptClass::success;
      r.duration = milliseconds(1);
      report(r);
    });
  };
  std::vector<std::thread> callers;
  for (int t = 0; t < 2; ++t) {
    callers.emplace_back([&] {
      for (int i = 0; i < kCalls / 2; ++i) {
        executor.execute(attempt, [&](ExecutionResult r) {
          std::lock_guard<std::mutex> lock(mu);
          ++done;
          if (r.outcome == ExecutionOutcome::completed && r.attempts == 2) ++two_attempt_successes;
          cv.notify_all();
        });
      }
    });
  }
  for (auto& c : callers) c.join();
  std::unique_lock<std::mutex> lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return done == kCalls; })) << done;
  EXPECT_EQ(two_attempt_successes, kCalls);
  lock.unlock();
  scheduler.shutdown();
  EXPECT_EQ(done, kCalls);
}

}  // namespace
}  // namespace tokenizer
