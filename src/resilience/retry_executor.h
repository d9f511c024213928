// RetryExecutor: runs one logical upstream call (one tokenize request) as a sequence of
// attempts under an overall deadline, asking the circuit breaker before every attempt, the
// retry policy after it, the retry budget before every retry, and waiting the back-off
// (or the upstream's Retry-After) on a Scheduler between attempts. Never blocks a thread.
//
//   RetryExecutor executor(config, RetryPolicy(policy_config), Backoff(backoff_config),
//                          breaker, budget, scheduler, clock, random);
//   executor.execute(
//       [&](const AttemptContext& ctx, AttemptCallback report) {
//         // start ONE attempt with timeout ctx.attempt_timeout; later, exactly once:
//         // report(AttemptReport{AttemptClass::success, std::nullopt, elapsed, payload});
//       },
//       [](ExecutionResult result) { /* exactly once: answer the client */ },
//       observer);  // optional per-request telemetry hooks
//
// Or, for a caller that keeps its per-request state in one object anyway (the tokenize
// handler), that object implements RetryCall and is passed as a shared_ptr: the executor
// then needs no std::function (no allocation) for the attempt, `done` and the hooks.
//   executor.execute(std::shared_ptr<RetryCall>(call));
//
// Rules (the reasoning is in src/resilience/README.md):
// - Deadline: `deadline` from execute(). Each attempt's timeout is min(attempt_timeout,
//   remaining deadline). A retry is only started when at least `min_attempt_timeout` of the
//   deadline is left after its delay; otherwise the call stops with deadline_exceeded.
//   A back-off delay is shortened to fit; a Retry-After is never shortened: if it does not
//   fit, the call stops (deadline_exceeded, result.retry_after = that Retry-After).
// - Breaker: try_acquire() before EVERY attempt, the first and each retry. A rejection
//   stops the call with breaker_open even after earlier attempts (result.last then holds
//   the previous attempt's report), because an open breaker means the vault is failing for
//   everyone and more attempts only add load. Each attempt is recorded: success and
//   rejected (the vault answered, e.g. a 422) count as successes; every other class,
//   fatal included (TLS, refused credentials, garbage: the vault is unusable for us, and
//   failing fast is the honest answer) counts as a failure.
// - Budget: record_request() once, when the first attempt starts (requests rejected by an
//   open breaker never reach the vault and do not earn retries); try_acquire_retry() before
//   each retry; none left → budget_exhausted.
// - Watchdog: if the attempt function never reports, the call ends with deadline_exceeded
//   at deadline + watchdog_grace (the attempt is recorded in the breaker as a timeout);
//   its report, if it ever comes, is ignored. 0 disables the watchdog.
// - `done` is called exactly once: on the thread of execute() (breaker open at once, or an
//   attempt function that reports synchronously), of the attempt's report, or of the
//   scheduler. It must not block.
//
// Thread-safe: execute() may be called concurrently; each call has its own state. The
// executor, breaker, budget, scheduler, clock and random must outlive every call in
// progress (shut the Scheduler down before destroying them). `random` is used from several
// threads: SystemRandom is fine.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include "common/clock.h"
#include "common/random.h"
#include "resilience/backoff.h"
#include "resilience/circuit_breaker.h"
#include "resilience/retry_budget.h"
#include "resilience/retry_policy.h"
#include "resilience/scheduler.h"

namespace tokenizer {

// What the attempt function is told.
struct AttemptContext {
  int attempt_number = 1;                        // 1-based
  std::chrono::milliseconds attempt_timeout{0};  // give the transport exactly this
  std::string_view retry_reason;                 // "" on the first attempt; static string
};

// What the attempt function reports, exactly once per attempt.
struct AttemptReport {
  AttemptClass cls = AttemptClass::fatal;
  std::optional<std::chrono::milliseconds> retry_after;  // the upstream's Retry-After (throttled)
  std::chrono::nanoseconds duration{0};                  // the attempt's own duration
  std::shared_ptr<void> payload;  // opaque to the executor (e.g. the parsed vault reply)
};

class RetryExecutor;
struct RetryExecution;  // the state of one execute() call (retry_executor.cpp)

// Reports one attempt to the executor: call it exactly once per attempt, from any thread;
// later calls (and calls after the execution ended, e.g. after the watchdog gave up on the
// attempt) are ignored. Copyable: a shared reference to the execution's state, so copying
// or holding it never allocates. A default-constructed callback does nothing.
class AttemptCallback {
 public:
  AttemptCallback() = default;
  void operator()(AttemptReport report) const;
  explicit operator bool() const { return execution_ != nullptr; }

 private:
  friend class RetryExecutor;
  AttemptCallback(std::shared_ptr<RetryExecution> execution, int attempt_number)
      : execution_(std::move(execution)), attempt_number_(attempt_number) {}
  std::shared_ptr<RetryExecution> execution_;
  int attempt_number_ = 0;
};

using AttemptFunction = std::function<void(const AttemptContext&, AttemptCallback)>;

enum class ExecutionOutcome {
  completed,           // result.last is final: success or an answer that is never retried
  breaker_open,        // the breaker rejected an attempt (retry_after = its remaining open time)
  deadline_exceeded,   // no time left for another attempt (or a Retry-After beyond the deadline)
  attempts_exhausted,  // the last attempt was retryable but max_attempts was reached
  budget_exhausted,    // the last attempt was retryable but the retry budget was empty
};

// "completed", "breaker_open", "deadline_exceeded", "attempts_exhausted", "budget_exhausted".
const char* execution_outcome_name(ExecutionOutcome outcome);

struct ExecutionResult {
  ExecutionOutcome outcome = ExecutionOutcome::completed;
  std::optional<AttemptReport> last;  // the last attempt's report; empty when none was made
  int attempts = 0;                   // attempts started
  // For the client's Retry-After: the breaker's remaining open time (breaker_open; 0 when
  // half-open probes are all out), or the last throttled attempt's Retry-After.
  std::optional<std::chrono::milliseconds> retry_after;
};

// Per-call telemetry hooks (both optional). Called outside the executor's locks, on the
// thread that completed the attempt; must not block or throw.
struct ExecutionObserver {
  // After each attempt: its number, class, duration and the reason it was made ("" first).
  std::function<void(int attempt_number, AttemptClass cls, std::chrono::nanoseconds duration,
                     std::string_view retry_reason)>
      on_attempt;
  // When a retry has been granted (policy, deadline and budget agreed), with its delay.
  std::function<void(std::string_view reason, std::chrono::nanoseconds delay)> on_retry;
};

// The caller's side of one execution as an object (see execute(std::shared_ptr<RetryCall>)).
// The same contract as the function form: start_attempt() is the attempt function, done()
// is `done` (called exactly once, must not block), and the two hooks are ExecutionObserver's
// (called outside the executor's locks; must not block or throw). The executor keeps the
// object alive until the execution's state is released.
class RetryCall {
 public:
  virtual ~RetryCall() = default;
  virtual void start_attempt(const AttemptContext& ctx, AttemptCallback report) = 0;
  virtual void done(ExecutionResult result) = 0;
  virtual void on_attempt(int /*attempt_number*/, AttemptClass /*cls*/,
                          std::chrono::nanoseconds /*duration*/, std::string_view /*retry_reason*/) {}
  virtual void on_retry(std::string_view /*reason*/, std::chrono::nanoseconds /*delay*/) {}
};

struct RetryExecutorConfig {
  std::chrono::milliseconds deadline{5000};            // --upstream-timeout-ms
  std::chrono::milliseconds attempt_timeout{2000};     // --upstream-attempt-timeout-ms
  std::chrono::milliseconds min_attempt_timeout{100};  // don't start an attempt with less
  std::chrono::milliseconds watchdog_grace{500};       // 0 = no watchdog
};

// How an attempt counts for the breaker (see the rules above).
CallResult::Outcome breaker_outcome(AttemptClass cls);

class RetryExecutor {
 public:
  RetryExecutor(RetryExecutorConfig config, RetryPolicy policy, Backoff backoff,
                CircuitBreaker& breaker, RetryBudget& budget, Scheduler& scheduler,
                const Clock& clock, Random& random);
  RetryExecutor(const RetryExecutor&) = delete;
  RetryExecutor& operator=(const RetryExecutor&) = delete;

  void execute(AttemptFunction attempt, std::function<void(ExecutionResult)> done,
               ExecutionObserver observer = {});
  // The same with the caller's side as one object (must not be null).
  void execute(std::shared_ptr<RetryCall> call);

  const RetryExecutorConfig& config() const { return config_; }
  const RetryPolicy& policy() const { return policy_; }

 private:
  friend class AttemptCallback;
  using Execution = RetryExecution;
  using ExecutionPtr = std::shared_ptr<Execution>;

  void start(ExecutionPtr ex);
  void start_attempt(const ExecutionPtr& ex, std::string_view reason);
  void on_report(const ExecutionPtr& ex, int attempt_number, AttemptReport report);
  void on_watchdog(const ExecutionPtr& ex);
  void finish(const ExecutionPtr& ex, ExecutionOutcome outcome,
              std::optional<std::chrono::milliseconds> retry_after);

  RetryExecutorConfig config_;
  RetryPolicy policy_;
  Backoff backoff_;
  CircuitBreaker& breaker_;
  RetryBudget& budget_;
  Scheduler& scheduler_;
  const Clock& clock_;
  Random& random_;
};

}  // namespace tokenizer
