// Scheduler: runs a task after a delay, on some thread other than the caller's. The seam
// that lets the retry executor wait (back-off, Retry-After, the deadline watchdog)
// without blocking any thread.
//
// Contract:
// - schedule(delay, task) returns at once; `task` runs once, no earlier than `delay` from
//   now as measured by the implementation's Clock, never inside schedule() itself.
//   It returns a non-zero id, or kNoTask when the scheduler has shut down (the task is
//   destroyed without running).
// - cancel(id) removes a task that has not started; true when it was removed.
// - Tasks must be short, must not block and must not throw.
// - Thread-safe: schedule() and cancel() may be called from any thread, including from a
//   running task.
// Production: TimerScheduler (one timer thread). Tests: tests/fakes/fake_scheduler.h, whose
// advance(d) moves a FakeClock and runs what is due.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

namespace tokenizer {

class Scheduler {
 public:
  using Task = std::function<void()>;
  using TaskId = std::uint64_t;
  static constexpr TaskId kNoTask = 0;

  virtual ~Scheduler() = default;
  virtual TaskId schedule(std::chrono::nanoseconds delay, Task task) = 0;
  virtual bool cancel(TaskId id) = 0;
};

}  // namespace tokenizer
