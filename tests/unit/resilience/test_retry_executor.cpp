#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "fake_clock.h"
#include "fake_random.h"
#include "fake_scheduler.h"
#include "resilience/retry_executor.h"

namespace tokenizer {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

// One scripted attempt: what it reports and how long it takes (the fake moves the clock).
struct Step {
  AttemptClass cls = AttemptClass::success;
  std::optional<milliseconds> retry_after;
  nanoseconds duration = milliseconds(10);
  bool hold = false;   // keep the callback; the test reports later (or never)
  bool twice = false;  // report twice (a buggy transport)
};

Step step(AttemptClass cls, std::optional<milliseconds> retry_after = std::nullopt,
          nanoseconds duration = milliseconds(10)) {
  Step s;
  s.cls = cls;
  s.retry_after = retry_after;
  s.duration = duration;
  return s;
}

class RetryExecutorTest : public ::testing::Test {
 protected:
  RetryExecutor& executor() {
    if (!executor_) {
      breaker_ = std::make_unique<CircuitBreaker>("vault", breaker_config_, clock_);
      budget_ = std::make_unique<RetryBudget>(budget_config_, clock_);
      executor_ = std::make_unique<RetryExecutor>(config_, RetryPolicy(policy_), Backoff(backoff_),
                                                  *breaker_, *budget_, scheduler_, clock_, random_);
    }
    return *executor_;
  }
  CircuitBreaker& breaker() {
    executor();
    return *breaker_;
  }
  RetryBudget& budget() {
    executor();
    return *budget_;
  }

  // Starts one call whose attempts follow `script` in order.
  void run(std::vector<Step> script) {
    script_ = std::move(script);
    ExecutionObserver observer;
    observer.on_attempt = [this](int n, AttemptClass cls, nanoseconds d, std::string_view reason) {
      events_.push_back("attempt " + std::to_string(n) + " " + attempt_class_name(cls) + " " +
                        std::to_string(std::chrono::duration_cast<milliseconds>(d).count()) +
                        "ms " + std::string(reason));
    };
    observer.on_retry = [this](std::string_view reason, nanoseconds delay) {
      events_.push_back("retry " + std::string(reason));
      retry_delays_.push_back(delay);
    };
    executor().execute(
        [this](const AttemptContext& ctx, AttemptCallback report) {
          contexts_.push_back(ctx);
          ASSERT_LE(contexts_.size(), script_.size()) << "more attempts than scripted";
          const Step s = script_[contexts_.size() - 1];
          if (s.hold) {
            held_.push_back(std::move(report));
            return;
          }
          clock_.advance(s.duration);
          AttemptReport r;
          r.cls = s.cls;
          r.retry_after = s.retry_after;
          r.duration = s.duration;
          r.payload = std::make_shared<int>(static_cast<int>(contexts_.size()));
          if (s.twice) report(r);
          report(std::move(r));
        },
        [this](ExecutionResult r) { results_.push_back(std::move(r)); }, std::move(observer));
  }

  const ExecutionResult& result() {
    EXPECT_EQ(results_.size(), 1u);
    static const ExecutionResult kNone{};
    return results_.empty() ? kNone : results_.front();
  }
  static int payload_of(const ExecutionResult& r) {
    return r.last && r.last->payload ? *std::static_pointer_cast<int>(r.last->payload) : -1;
  }

  testing::FakeClock clock_;
  testing::FakeRandom random_{testing::FakeRandom::unit(0.5)};
  testing::FakeScheduler scheduler_{clock_};
  RetryExecutorConfig config_;  // 5 s deadline, 2 s per attempt, 100 ms minimum, 500 ms grace
  RetryPolicyConfig policy_;    // 3 attempts, only safe classes
  BackoffConfig backoff_{milliseconds(100), milliseconds(1000)};
  CircuitBreakerConfig breaker_config_;
  RetryBudgetConfig budget_config_;

  std::vector<Step> script_;
  std::vector<AttemptContext> contexts_;
  std::vector<AttemptCallback> held_;
  std::vector<ExecutionResult> results_;
  std::vector<std::string> events_;
  std::vector<nanoseconds> retry_delays_;

 private:
  std::unique_ptr<CircuitBreaker> breaker_;
  std::unique_ptr<RetryBudget> budget_;
  std::unique_ptr<RetryExecutor> executor_;
};

TEST_F(RetryExecutorTest, SuccessOnTheFirstAttempt) {
  run({step(AttemptClass::success)});
  const auto& r = result();
  EXPECT_EQ(r.outcome, ExecutionOutcome::completed);
  EXPECT_EQ(r.attempts, 1);
  ASSERT_TRUE(r.last);
  EXPECT_EQ(r.last->cls, AttemptClass::success);
  EXPECT_EQ(payload_of(r), 1);
  EXPECT_FALSE(r.retry_after);
  ASSERT_EQ(contexts_.size(), 1u);
  EXPECT_EQ(contexts_[0].attempt_number, 1);
  EXPECT_EQ(contexts_[0].attempt_timeout, milliseconds(2000));
  EXPECT_EQ(contexts_[0].retry_reason, "");
  EXPECT_EQ(events_, (std::vector<std::string>{"attempt 1 success 10ms "}));
  EXPECT_EQ(scheduler_.pending(), 0u);  // the watchdog was cancelled
  EXPECT_EQ(scheduler_.cancelled, 1);
  EXPECT_EQ(budget().snapshot().requests, 1);
  EXPECT_EQ(budget().snapshot().retries, 0);
  EXPECT_EQ(breaker().snapshot().calls, 1);
  EXPECT_EQ(breaker().snapshot().failures, 0);
}

TEST_F(RetryExecutorTest, ConnectFailureThenSuccessAfterJitteredBackoff) {
  run({step(AttemptClass::connect_failed), step(AttemptClass::success)});
  EXPECT_TRUE(results_.empty());
  ASSERT_EQ(retry_delays_.size(), 1u);
  EXPECT_EQ(retry_delays_[0], milliseconds(50));  // half of min(1000, 100 * 2^0)
  scheduler_.advance(milliseconds(49));
  EXPECT_EQ(contexts_.size(), 1u);
  scheduler_.advance(milliseconds(1));
  ASSERT_EQ(contexts_.size(), 2u);
  EXPECT_EQ(contexts_[1].attempt_number, 2);
  EXPECT_EQ(contexts_[1].retry_reason, "connect_failed");
  const auto& r = result();
  EXPECT_EQ(r.outcome, ExecutionOutcome::completed);
  EXPECT_EQ(r.attempts, 2);
  EXPECT_EQ(payload_of(r), 2);
  EXPECT_EQ(events_,
            (std::vector<std::string>{"attempt 1 connect_failed 10ms ", "retry connect_failed",
                                      "attempt 2 success 10ms connect_failed"}));
  EXPECT_EQ(budget().snapshot().retries, 1);
  EXPECT_EQ(breaker().snapshot().failures, 1);
  EXPECT_EQ(breaker().snapshot().calls, 2);
}

TEST_F(RetryExecutorTest, SecondRetryBacksOffLonger) {
  run({step(AttemptClass::reset_before_send), step(AttemptClass::connect_failed),
       step(AttemptClass::success)});
  while (scheduler_.pending() > 1) scheduler_.run_next();  // leave the watchdog
  EXPECT_EQ(retry_delays_, (std::vector<nanoseconds>{milliseconds(50), milliseconds(100)}));
  EXPECT_EQ(contexts_.at(1).retry_reason, "reset");
  EXPECT_EQ(result().outcome, ExecutionOutcome::completed);
  EXPECT_EQ(result().attempts, 3);
}

TEST_F(RetryExecutorTest, ThrottledWaitsExactlyTheRetryAfter) {
  run({step(AttemptClass::throttled, milliseconds(1200)), step(AttemptClass::success)});
  ASSERT_EQ(retry_delays_.size(), 1u);
  EXPECT_EQ(retry_delays_[0], milliseconds(1200));
  EXPECT_EQ(random_.draws, 0);  // no jitter on a server-given delay
  scheduler_.advance(milliseconds(1199));
  EXPECT_EQ(contexts_.size(), 1u);
  scheduler_.advance(milliseconds(1));
  EXPECT_EQ(contexts_.size(), 2u);
  EXPECT_EQ(contexts_[1].retry_reason, "throttled");
  EXPECT_EQ(result().outcome, ExecutionOutcome::completed);
}

TEST_F(RetryExecutorTest, ThrottledWithoutRetryAfterUsesTheBackoff) {
  run({step(AttemptClass::throttled), step(AttemptClass::success)});
  EXPECT_EQ(retry_delays_, (std::vector<nanoseconds>{milliseconds(50)}));
}

TEST_F(RetryExecutorTest, RetryAfterBeyondTheDeadlineStopsAtOnce) {
  run({step(AttemptClass::throttled, milliseconds(5000))});
  const auto& r = result();
  EXPECT_EQ(r.outcome, ExecutionOutcome::deadline_exceeded);
  EXPECT_EQ(r.attempts, 1);
  ASSERT_TRUE(r.retry_after);
  EXPECT_EQ(*r.retry_after, milliseconds(5000));
  EXPECT_EQ(r.last->cls, AttemptClass::throttled);
  EXPECT_TRUE(retry_delays_.empty());
  EXPECT_EQ(budget().snapshot().retries, 0);  // no token spent on a retry that never happens
  EXPECT_EQ(scheduler_.pending(), 0u);
}

TEST_F(RetryExecutorTest, RetryAfterMustLeaveRoomForAWholeMinimumAttempt) {
  // After a 10 ms attempt 4990 ms remain; 4890 ms + the 100 ms minimum attempt just fit.
  run({step(AttemptClass::throttled, milliseconds(4890)), step(AttemptClass::success)});
  scheduler_.advance(milliseconds(4890));
  EXPECT_EQ(result().outcome, ExecutionOutcome::completed);
  ASSERT_EQ(contexts_.size(), 2u);
  EXPECT_EQ(contexts_[1].attempt_timeout, milliseconds(100));  // clipped to the deadline

  results_.clear();
  contexts_.clear();
  run({step(AttemptClass::throttled, milliseconds(4891))});
  EXPECT_EQ(result().outcome, ExecutionOutcome::deadline_exceeded);
}

TEST_F(RetryExecutorTest, RejectionsAreNeverRetriedEvenWithEverySwitchOn) {
  policy_.retry_on_server_error = policy_.retry_on_timeout = policy_.retry_reset_after_send = true;
  run({step(AttemptClass::rejected)});
  const auto& r = result();
  EXPECT_EQ(r.outcome, ExecutionOutcome::completed);
  EXPECT_EQ(r.attempts, 1);
  EXPECT_EQ(r.last->cls, AttemptClass::rejected);
  EXPECT_EQ(breaker().snapshot().failures, 0);  // a 422 is a healthy vault
  EXPECT_EQ(breaker().snapshot().calls, 1);
}

TEST_F(RetryExecutorTest, FatalIsNotRetriedButCountsAgainstTheBreaker) {
  run({step(AttemptClass::fatal)});
  EXPECT_EQ(result().outcome, ExecutionOutcome::completed);
  EXPECT_EQ(result().attempts, 1);
  EXPECT_EQ(breaker().snapshot().failures, 1);
}

TEST_F(RetryExecutorTest, TimeoutIsFinalByDefault) {
  run({step(AttemptClass::timeout, std::nullopt, seconds(2))});
  EXPECT_EQ(result().outcome, ExecutionOutcome::completed);
  EXPECT_EQ(result().last->cls, AttemptClass::timeout);
  EXPECT_EQ(result().attempts, 1);
}

TEST_F(RetryExecutorTest, TimeoutIsRetriedWhenConfiguredAndTheLastAttemptIsClipped) {
  policy_.retry_on_timeout = true;
  random_ = testing::FakeRandom(0);  // no back-off
  run({step(AttemptClass::timeout, std::nullopt, seconds(2)),
       step(AttemptClass::timeout, std::nullopt, seconds(2)),
       step(AttemptClass::timeout, std::nullopt, seconds(1))});
  while (scheduler_.pending() > 1) scheduler_.run_next();
  ASSERT_EQ(contexts_.size(), 3u);
  EXPECT_EQ(contexts_[0].attempt_timeout, milliseconds(2000));
  EXPECT_EQ(contexts_[1].attempt_timeout, milliseconds(2000));
  EXPECT_EQ(contexts_[1].retry_reason, "timeout");
  EXPECT_EQ(contexts_[2].attempt_timeout, milliseconds(1000));  // what is left of 5 s
  EXPECT_EQ(result().outcome, ExecutionOutcome::attempts_exhausted);
  EXPECT_EQ(result().attempts, 3);
}

TEST_F(RetryExecutorTest, ServerErrorIsFinalByDefault) {
  run({step(AttemptClass::server_error)});
  EXPECT_EQ(result().outcome, ExecutionOutcome::completed);
  EXPECT_EQ(result().attempts, 1);
  EXPECT_TRUE(retry_delays_.empty());
}

TEST_F(RetryExecutorTest, ServerErrorRetriedWhenConfigured) {
  policy_.retry_on_server_error = true;
  run({step(AttemptClass::server_error), step(AttemptClass::success)});
  scheduler_.advance(milliseconds(50));
  EXPECT_EQ(contexts_.at(1).retry_reason, "server_error");
  EXPECT_EQ(result().outcome, ExecutionOutcome::completed);
}

TEST_F(RetryExecutorTest, ResetAfterSendIsFinalByDefault) {
  run({step(AttemptClass::reset_after_send)});
  EXPECT_EQ(result().outcome, ExecutionOutcome::completed);
  EXPECT_EQ(result().attempts, 1);
}

TEST_F(RetryExecutorTest, AttemptsExhausted) {
  run({step(AttemptClass::connect_failed), step(AttemptClass::connect_failed),
       step(AttemptClass::connect_failed)});
  while (scheduler_.pending() > 1) scheduler_.run_next();
  EXPECT_EQ(result().outcome, ExecutionOutcome::attempts_exhausted);
  EXPECT_EQ(result().attempts, 3);
  EXPECT_FALSE(result().retry_after);
  EXPECT_EQ(budget().snapshot().retries, 2);
}

TEST_F(RetryExecutorTest, ThrottledToTheEndHandsTheClientTheRetryAfter) {
  run({step(AttemptClass::throttled, milliseconds(100)),
       step(AttemptClass::throttled, milliseconds(100)),
       step(AttemptClass::throttled, milliseconds(700))});
  while (scheduler_.pending() > 1) scheduler_.run_next();
  EXPECT_EQ(result().outcome, ExecutionOutcome::attempts_exhausted);
  ASSERT_TRUE(result().retry_after);
  EXPECT_EQ(*result().retry_after, milliseconds(700));
}

TEST_F(RetryExecutorTest, BudgetExhaustedStopsRetries) {
  budget_config_.min_retries = 1;
  budget_config_.percent = 0;
  run({step(AttemptClass::connect_failed), step(AttemptClass::connect_failed),
       step(AttemptClass::success)});
  scheduler_.advance(milliseconds(50));
  const auto& r = result();
  EXPECT_EQ(r.outcome, ExecutionOutcome::budget_exhausted);
  EXPECT_EQ(r.attempts, 2);
  EXPECT_EQ(r.last->cls, AttemptClass::connect_failed);
  EXPECT_EQ(retry_delays_.size(), 1u);
  EXPECT_EQ(budget().snapshot().retries, 1);
}

TEST_F(RetryExecutorTest, OpenBreakerFailsFastWithoutCallingTheAttempt) {
  for (int i = 0; i < 20; ++i)
    breaker().record(breaker().try_acquire(), CallResult::failure(milliseconds(1)));
  ASSERT_EQ(breaker().state(), BreakerState::open);
  clock_.advance(seconds(1));
  run({});
  const auto& r = result();  // answered synchronously, inside execute()
  EXPECT_EQ(r.outcome, ExecutionOutcome::breaker_open);
  EXPECT_EQ(r.attempts, 0);
  EXPECT_FALSE(r.last);
  ASSERT_TRUE(r.retry_after);
  EXPECT_EQ(*r.retry_after, milliseconds(4000));
  EXPECT_TRUE(contexts_.empty());
  EXPECT_EQ(budget().snapshot().requests, 0);  // it never reached the vault
  EXPECT_EQ(scheduler_.pending(), 0u);
}

TEST_F(RetryExecutorTest, BreakerOpeningBetweenAttemptsStopsTheRetry) {
  breaker_config_.min_calls = 1;
  run({step(AttemptClass::connect_failed), step(AttemptClass::success)});
  EXPECT_EQ(breaker().state(), BreakerState::open);  // opened by the first attempt, at t = 10 ms
  scheduler_.advance(milliseconds(50));
  const auto& r = result();
  EXPECT_EQ(r.outcome, ExecutionOutcome::breaker_open);
  EXPECT_EQ(r.attempts, 1);
  ASSERT_TRUE(r.last);
  EXPECT_EQ(r.last->cls, AttemptClass::connect_failed);
  EXPECT_EQ(*r.retry_after, milliseconds(4950));
  EXPECT_EQ(contexts_.size(), 1u);
}

TEST_F(RetryExecutorTest, DeadlineExceededWhenNoTimeIsLeftForAnotherAttempt) {
  random_ = testing::FakeRandom(0);
  run({step(AttemptClass::connect_failed, std::nullopt, milliseconds(2460)),
       step(AttemptClass::connect_failed, std::nullopt, milliseconds(2460)),
       step(AttemptClass::success)});
  scheduler_.run_due();  // t = 4920 ms: 80 ms left, below the 100 ms minimum
  const auto& r = result();
  EXPECT_EQ(r.outcome, ExecutionOutcome::deadline_exceeded);
  EXPECT_EQ(r.attempts, 2);
  EXPECT_EQ(r.last->cls, AttemptClass::connect_failed);
  EXPECT_EQ(contexts_.size(), 2u);
  EXPECT_EQ(budget().snapshot().retries, 1);
}

TEST_F(RetryExecutorTest, ALateRetryTaskStillRespectsTheDeadline) {
  run({step(AttemptClass::connect_failed), step(AttemptClass::success)});
  clock_.advance(milliseconds(4920));  // the timer thread was starved: t = 4930 ms, 70 ms left
  scheduler_.run_due();
  EXPECT_EQ(result().outcome, ExecutionOutcome::deadline_exceeded);
  EXPECT_EQ(result().attempts, 1);
  EXPECT_EQ(contexts_.size(), 1u);
}

TEST_F(RetryExecutorTest, BackoffIsShortenedToFitTheDeadline) {
  backoff_ = {seconds(10), seconds(10)};
  random_ = testing::FakeRandom(testing::FakeRandom::unit(0.9));  // would be 9 s
  run({step(AttemptClass::connect_failed), step(AttemptClass::success)});
  ASSERT_EQ(retry_delays_.size(), 1u);
  EXPECT_EQ(retry_delays_[0], milliseconds(4890));  // 4990 ms left minus a 100 ms attempt
  scheduler_.advance(milliseconds(4890));
  ASSERT_EQ(contexts_.size(), 2u);
  EXPECT_EQ(contexts_[1].attempt_timeout, milliseconds(100));
  EXPECT_EQ(result().outcome, ExecutionOutcome::completed);
}

TEST_F(RetryExecutorTest, AsynchronousReportCompletesTheCall) {
  Step held;
  held.hold = true;
  run({held});
  ASSERT_EQ(held_.size(), 1u);
  scheduler_.advance(milliseconds(300));
  EXPECT_TRUE(results_.empty());
  AttemptReport report;
  report.cls = AttemptClass::success;
  report.duration = milliseconds(300);
  held_[0](report);
  EXPECT_EQ(result().outcome, ExecutionOutcome::completed);
  EXPECT_EQ(scheduler_.pending(), 0u);
}

TEST_F(RetryExecutorTest, WatchdogEndsAHungCallAndIgnoresItsLateReport) {
  Step hung;
  hung.hold = true;
  run({hung});
  scheduler_.advance(milliseconds(5499));
  EXPECT_TRUE(results_.empty());
  scheduler_.advance(milliseconds(1));
  const auto r = result();
  EXPECT_EQ(r.outcome, ExecutionOutcome::deadline_exceeded);
  EXPECT_EQ(r.attempts, 1);
  ASSERT_TRUE(r.last);
  EXPECT_EQ(r.last->cls, AttemptClass::timeout);
  EXPECT_EQ(r.last->duration, milliseconds(5500));
  EXPECT_EQ(breaker().snapshot().failures, 1);
  EXPECT_EQ(events_, (std::vector<std::string>{"attempt 1 timeout 5500ms "}));
  AttemptReport late;
  late.cls = AttemptClass::success;
  held_.at(0)(late);
  EXPECT_EQ(results_.size(), 1u);
  EXPECT_EQ(breaker().snapshot().calls, 1);
}

TEST_F(RetryExecutorTest, NoWatchdogWhenDisabled) {
  config_.watchdog_grace = milliseconds(0);
  Step hung;
  hung.hold = true;
  run({hung});
  EXPECT_EQ(scheduler_.pending(), 0u);
  scheduler_.advance(seconds(60));
  EXPECT_TRUE(results_.empty());
}

TEST_F(RetryExecutorTest, DuplicateReportsAreIgnored) {
  Step twice = step(AttemptClass::connect_failed);
  twice.twice = true;
  run({twice, step(AttemptClass::success)});
  EXPECT_EQ(retry_delays_.size(), 1u);
  EXPECT_EQ(breaker().snapshot().calls, 1);
  scheduler_.advance(milliseconds(50));
  EXPECT_EQ(results_.size(), 1u);
  EXPECT_EQ(result().attempts, 2);
}

TEST_F(RetryExecutorTest, SchedulerRefusalStillAnswersExactlyOnce) {
  scheduler_.shut_down = true;
  run({step(AttemptClass::connect_failed), step(AttemptClass::success)});
  EXPECT_EQ(result().outcome, ExecutionOutcome::attempts_exhausted);
  EXPECT_EQ(result().attempts, 1);
}

// The object form: the same decisions, hooks and exactly-once `done`, and the object lives
// until the execution's state is released (also when a callback is held past the end).
class ScriptedCall final : public RetryCall {
 public:
  ScriptedCall(testing::FakeClock& clock, std::vector<Step> script, int* alive)
      : clock_(clock), script_(std::move(script)), alive_(alive) {
    ++*alive_;
  }
  ~ScriptedCall() override { --*alive_; }

  void start_attempt(const AttemptContext& ctx, AttemptCallback report) override {
    contexts.push_back(ctx);
    ASSERT_LE(contexts.size(), script_.size());
    const Step s = script_[contexts.size() - 1];
    if (s.hold) {
      held.push_back(std::move(report));
      return;
    }
    clock_.advance(s.duration);
    AttemptReport r;
    r.cls = s.cls;
    r.retry_after = s.retry_after;
    r.duration = s.duration;
    r.payload = std::make_shared<int>(static_cast<int>(contexts.size()));
    report(std::move(r));
  }
  void done(ExecutionResult result) override { results.push_back(std::move(result)); }
  void on_attempt(int n, AttemptClass cls, nanoseconds, std::string_view reason) override {
    events.push_back("attempt " + std::to_string(n) + " " + attempt_class_name(cls) + " " +
                     std::string(reason));
  }
  void on_retry(std::string_view reason, nanoseconds) override {
    events.push_back("retry " + std::string(reason));
  }

  std::vector<AttemptContext> contexts;
  std::vector<AttemptCallback> held;
  std::vector<ExecutionResult> results;
  std::vector<std::string> events;

 private:
  testing::FakeClock& clock_;
  std::vector<Step> script_;
  int* alive_;
};

TEST_F(RetryExecutorTest, CallObjectRetriesAndAnswersOnce) {
  int alive = 0;
  auto call = std::make_shared<ScriptedCall>(
      clock_, std::vector<Step>{step(AttemptClass::connect_failed), step(AttemptClass::success)},
      &alive);
  std::weak_ptr<ScriptedCall> weak = call;
  ScriptedCall& c = *call;
  executor().execute(std::shared_ptr<RetryCall>(call));
  EXPECT_EQ(weak.use_count(), 2);  // the executor holds it while the retry is scheduled
  while (scheduler_.pending() > 1) scheduler_.run_next();
  ASSERT_EQ(c.results.size(), 1u);
  EXPECT_EQ(c.results[0].outcome, ExecutionOutcome::completed);
  EXPECT_EQ(c.results[0].attempts, 2);
  EXPECT_EQ(payload_of(c.results[0]), 2);
  ASSERT_EQ(c.contexts.size(), 2u);
  EXPECT_EQ(c.contexts[1].retry_reason, "connect_failed");
  EXPECT_EQ(c.events, (std::vector<std::string>{"attempt 1 connect_failed ", "retry connect_failed",
                                                 "attempt 2 success connect_failed"}));
  scheduler_.advance(seconds(10));  // the cancelled watchdog never fires
  EXPECT_EQ(c.results.size(), 1u);
  EXPECT_EQ(weak.use_count(), 1);  // released with the execution's state
  call.reset();
  EXPECT_EQ(alive, 0);
}

TEST_F(RetryExecutorTest, CallObjectHeldCallbackKeepsItAliveAndLateReportsAreIgnored) {
  int alive = 0;
  auto call = std::make_shared<ScriptedCall>(clock_, std::vector<Step>{[] {
                                               Step s;
                                               s.hold = true;
                                               return s;
                                             }()},
                                             &alive);
  std::weak_ptr<ScriptedCall> weak = call;
  executor().execute(std::shared_ptr<RetryCall>(call));
  scheduler_.advance(milliseconds(5500));  // deadline + grace: the watchdog ends the call
  ASSERT_EQ(call->results.size(), 1u);
  EXPECT_EQ(call->results[0].outcome, ExecutionOutcome::deadline_exceeded);
  ASSERT_EQ(call->held.size(), 1u);
  AttemptCallback late = call->held[0];
  call->held.clear();
  call.reset();
  EXPECT_FALSE(weak.expired());  // the held callback keeps the state, and the object, alive
  AttemptReport r;
  r.cls = AttemptClass::success;
  late(r);  // ignored: the call already answered
  EXPECT_EQ(weak.lock()->results.size(), 1u);
  late = AttemptCallback();
  EXPECT_TRUE(weak.expired());
  EXPECT_EQ(alive, 0);
  AttemptCallback none;
  EXPECT_FALSE(none);
  none(AttemptReport{});  // a default callback does nothing
}

TEST(ExecutionOutcomeName, IsStable) {
  EXPECT_STREQ(execution_outcome_name(ExecutionOutcome::completed), "completed");
  EXPECT_STREQ(execution_outcome_name(ExecutionOutcome::breaker_open), "breaker_open");
  EXPECT_STREQ(execution_outcome_name(ExecutionOutcome::deadline_exceeded), "deadline_exceeded");
  EXPECT_STREQ(execution_outcome_name(ExecutionOutcome::attempts_exhausted), "attempts_exhausted");
  EXPECT_STREQ(execution_outcome_name(ExecutionOutcome::budget_exhausted), "budget_exhausted");
}

TEST(BreakerOutcome, OnlyAnswersFromAHealthyVaultCountAsSuccess) {
  EXPECT_EQ(breaker_outcome(AttemptClass::success), CallResult::Outcome::success);
  EXPECT_EQ(breaker_outcome(AttemptClass::rejected), CallResult::Outcome::success);
  for (auto cls : {AttemptClass::connect_failed, AttemptClass::reset_before_send,
                   AttemptClass::reset_after_send, AttemptClass::throttled,
                   AttemptClass::server_error, AttemptClass::timeout, AttemptClass::fatal}) {
    EXPECT_EQ(breaker_outcome(cls), CallResult::Outcome::failure) << attempt_class_name(cls);
  }
}

}  // namespace
}  // namespace tokenizer
