#include "resilience/retry_executor.h"

#include <algorithm>
#include <mutex>
#include <optional>
#include <utility>

namespace tokenizer {

const char* execution_outcome_name(ExecutionOutcome outcome) {
  switch (outcome) {
    case ExecutionOutcome::completed:
      return "completed";
    case ExecutionOutcome::breaker_open:
      return "breaker_open";
    case ExecutionOutcome::deadline_exceeded:
      return "deadline_exceeded";
    case ExecutionOutcome::attempts_exhausted:
      return "attempts_exhausted";
    case ExecutionOutcome::budget_exhausted:
      return "budget_exhausted";
  }
  return "unknown";
}

CallResult::Outcome breaker_outcome(AttemptClass cls) {
  switch (cls) {
    case AttemptClass::success:
    case AttemptClass::rejected:
      return CallResult::Outcome::success;
    default:
      return CallResult::Outcome::failure;
  }
}

namespace {

// The function form of execute(), as a RetryCall held inside the execution's state.
class FunctionCall final : public RetryCall {
 public:
  FunctionCall(AttemptFunction attempt, std::function<void(ExecutionResult)> done,
               ExecutionObserver observer)
      : attempt_(std::move(attempt)), done_(std::move(done)), observer_(std::move(observer)) {}

  void start_attempt(const AttemptContext& ctx, AttemptCallback report) override {
    if (attempt_) attempt_(ctx, std::move(report));
  }
  void done(ExecutionResult result) override {
    // Released once called, as the function form always did.
    auto done = std::move(done_);
    done_ = nullptr;
    if (done) done(std::move(result));
  }
  void on_attempt(int n, AttemptClass cls, std::chrono::nanoseconds duration,
                  std::string_view reason) override {
    if (observer_.on_attempt) observer_.on_attempt(n, cls, duration, reason);
  }
  void on_retry(std::string_view reason, std::chrono::nanoseconds delay) override {
    if (observer_.on_retry) observer_.on_retry(reason, delay);
  }

 private:
  AttemptFunction attempt_;
  std::function<void(ExecutionResult)> done_;
  ExecutionObserver observer_;
};

}  // namespace

// The state of one execute() call, shared by the attempt callbacks, the scheduled retry
// and the watchdog. `mu` guards everything below it.
struct RetryExecution {
  RetryExecutor* executor = nullptr;
  std::shared_ptr<RetryCall> call;      // the caller's object form, or
  std::optional<FunctionCall> functions;  // the function form, held inline
  RetryCall* target = nullptr;          // whichever of the two is set
  std::chrono::steady_clock::time_point deadline;

  std::mutex mu;
  bool finished = false;
  int attempts = 0;          // attempts started
  bool outstanding = false;  // attempt `attempts` has started and not reported
  CircuitBreaker::Permit permit;
  std::chrono::steady_clock::time_point attempt_started;
  std::string_view attempt_reason;
  std::optional<AttemptReport> last;
  Scheduler::TaskId watchdog = Scheduler::kNoTask;
};

RetryExecutor::RetryExecutor(RetryExecutorConfig config, RetryPolicy policy, Backoff backoff,
                             CircuitBreaker& breaker, RetryBudget& budget, Scheduler& scheduler,
                             const Clock& clock, Random& random)
    : config_(config),
      policy_(policy),
      backoff_(backoff),
      breaker_(breaker),
      budget_(budget),
      scheduler_(scheduler),
      clock_(clock),
      random_(random) {
  config_.min_attempt_timeout = std::max(config_.min_attempt_timeout, std::chrono::milliseconds(1));
  config_.watchdog_grace = std::max(config_.watchdog_grace, std::chrono::milliseconds(0));
}

void AttemptCallback::operator()(AttemptReport report) const {
  if (execution_) execution_->executor->on_report(execution_, attempt_number_, std::move(report));
}

void RetryExecutor::execute(AttemptFunction attempt, std::function<void(ExecutionResult)> done,
                            ExecutionObserver observer) {
  auto ex = std::make_shared<Execution>();
  ex->functions.emplace(std::move(attempt), std::move(done), std::move(observer));
  ex->target = &*ex->functions;
  start(std::move(ex));
}

void RetryExecutor::execute(std::shared_ptr<RetryCall> call) {
  auto ex = std::make_shared<Execution>();
  ex->target = call.get();
  ex->call = std::move(call);
  start(std::move(ex));
}

void RetryExecutor::start(ExecutionPtr ex) {
  ex->executor = this;
  ex->deadline = clock_.steady() + config_.deadline;
  start_attempt(ex, {});
}

void RetryExecutor::start_attempt(const ExecutionPtr& ex, std::string_view reason) {
  const auto now = clock_.steady();
  const std::chrono::nanoseconds remaining = ex->deadline - now;
  bool first = false;
  {
    std::lock_guard<std::mutex> lock(ex->mu);
    if (ex->finished) return;
    first = ex->attempts == 0;
  }
  if (!first && remaining < config_.min_attempt_timeout) {
    finish(ex, ExecutionOutcome::deadline_exceeded, std::nullopt);
    return;
  }
  const CircuitBreaker::Permit permit = breaker_.try_acquire();
  if (!permit) {
    finish(ex, ExecutionOutcome::breaker_open, permit.retry_after());
    return;
  }

  AttemptContext ctx;
  ctx.retry_reason = reason;
  ctx.attempt_timeout =
      std::max(std::chrono::milliseconds(1),
               std::chrono::floor<std::chrono::milliseconds>(
                   std::min<std::chrono::nanoseconds>(config_.attempt_timeout, remaining)));
  {
    std::lock_guard<std::mutex> lock(ex->mu);
    if (ex->finished) {
      breaker_.release(permit);
      return;
    }
    ctx.attempt_number = ++ex->attempts;
    ex->outstanding = true;
    ex->permit = permit;
    ex->attempt_started = now;
    ex->attempt_reason = reason;
    if (first && config_.watchdog_grace > std::chrono::milliseconds(0)) {
      std::weak_ptr<Execution> weak = ex;
      ex->watchdog = scheduler_.schedule(remaining + config_.watchdog_grace, [this, weak] {
        if (auto alive = weak.lock()) on_watchdog(alive);
      });
    }
  }
  if (first) budget_.record_request();
  ex->target->start_attempt(ctx, AttemptCallback(ex, ctx.attempt_number));
}

void RetryExecutor::on_report(const ExecutionPtr& ex, int attempt_number, AttemptReport report) {
  CircuitBreaker::Permit permit;
  std::string_view reason;
  // What the rest needs, read before the report moves into the state (no copy of it).
  const AttemptClass cls = report.cls;
  const std::chrono::nanoseconds duration = report.duration;
  const std::optional<std::chrono::milliseconds> retry_after = report.retry_after;
  {
    std::lock_guard<std::mutex> lock(ex->mu);
    // A duplicate report, or one that arrives after the watchdog gave up on the attempt.
    if (ex->finished || !ex->outstanding || attempt_number != ex->attempts) return;
    ex->outstanding = false;
    permit = ex->permit;
    reason = ex->attempt_reason;
    ex->last = std::move(report);
  }
  breaker_.record(permit, CallResult{breaker_outcome(cls), duration});
  ex->target->on_attempt(attempt_number, cls, duration, reason);

  const RetryDecision decision = policy_.decide(cls, attempt_number, retry_after);
  if (!decision.retryable) {
    finish(ex, ExecutionOutcome::completed, std::nullopt);
    return;
  }
  if (!decision.retry) {
    finish(ex, ExecutionOutcome::attempts_exhausted, std::nullopt);
    return;
  }

  const std::chrono::nanoseconds remaining = ex->deadline - clock_.steady();
  const std::chrono::nanoseconds min_attempt = config_.min_attempt_timeout;
  std::chrono::nanoseconds delay;
  if (decision.delay_hint) {
    // The upstream said when it can take the call again: never come back earlier.
    delay = *decision.delay_hint;
    if (remaining - delay < min_attempt) {
      finish(ex, ExecutionOutcome::deadline_exceeded, std::nullopt);
      return;
    }
  } else {
    if (remaining < min_attempt) {
      finish(ex, ExecutionOutcome::deadline_exceeded, std::nullopt);
      return;
    }
    delay = std::min(backoff_.delay(attempt_number, random_), remaining - min_attempt);
  }
  if (!budget_.try_acquire_retry()) {
    finish(ex, ExecutionOutcome::budget_exhausted, std::nullopt);
    return;
  }
  ex->target->on_retry(decision.reason, delay);
  const std::string_view next_reason = decision.reason;
  const auto id =
      scheduler_.schedule(delay, [this, ex, next_reason] { start_attempt(ex, next_reason); });
  if (id == Scheduler::kNoTask) finish(ex, ExecutionOutcome::attempts_exhausted, std::nullopt);
}

void RetryExecutor::on_watchdog(const ExecutionPtr& ex) {
  bool had_attempt = false;
  CircuitBreaker::Permit permit;
  int attempt_number = 0;
  std::string_view reason;
  std::chrono::nanoseconds duration{0};
  {
    std::lock_guard<std::mutex> lock(ex->mu);
    if (ex->finished) return;
    if (ex->outstanding) {
      had_attempt = true;
      ex->outstanding = false;
      permit = ex->permit;
      attempt_number = ex->attempts;
      reason = ex->attempt_reason;
      duration = clock_.steady() - ex->attempt_started;
      AttemptReport synthesized;
      synthesized.cls = AttemptClass::timeout;
      synthesized.duration = duration;
      ex->last = std::move(synthesized);
    }
  }
  if (had_attempt) {
    breaker_.record(permit, CallResult::failure(duration));
    ex->target->on_attempt(attempt_number, AttemptClass::timeout, duration, reason);
  }
  finish(ex, ExecutionOutcome::deadline_exceeded, std::nullopt);
}

void RetryExecutor::finish(const ExecutionPtr& ex, ExecutionOutcome outcome,
                           std::optional<std::chrono::milliseconds> breaker_retry_after) {
  ExecutionResult result;
  Scheduler::TaskId watchdog = Scheduler::kNoTask;
  {
    std::lock_guard<std::mutex> lock(ex->mu);
    if (ex->finished) return;
    ex->finished = true;
    result.outcome = outcome;
    result.attempts = ex->attempts;
    result.last = std::move(ex->last);
    ex->last.reset();
    if (outcome == ExecutionOutcome::breaker_open) {
      result.retry_after = breaker_retry_after;
    } else if (outcome != ExecutionOutcome::completed && result.last &&
               result.last->cls == AttemptClass::throttled) {
      result.retry_after = result.last->retry_after;
    }
    watchdog = ex->watchdog;
  }
  if (watchdog != Scheduler::kNoTask) scheduler_.cancel(watchdog);
  ex->target->done(std::move(result));
}

}  // namespace tokenizer
