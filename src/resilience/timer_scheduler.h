// TimerScheduler: the production Scheduler: one timer thread, tasks ordered by due time
// (an ordered map, which gives the min-heap's "earliest first" plus O(log n) cancel), a
// condition variable that wakes the thread when a task arrives that is due before the
// thread would wake anyway. An idle thread wakes at least every kIdleWake, so the usual
// far-off task (a request's watchdog, seconds away) is scheduled without waking it: a
// notify costs the scheduling thread and the timer thread a few futex calls each.
//
//   TimerScheduler scheduler;                        // starts its thread
//   scheduler.schedule(std::chrono::milliseconds(40), [] { ... });
//   scheduler.shutdown();                            // or the destructor
//
// Tasks run one at a time on the timer thread, so they must be short (the retry executor's
// tasks only start an asynchronous attempt). shutdown() stops the thread and destroys the
// tasks that have not run (without running them); later schedule() calls return kNoTask.
// Shut the scheduler down before destroying anything its tasks reference.
// Thread-safe. Time is read from the injected Clock (waits use the same steady time base,
// so only a Clock whose steady() follows std::chrono::steady_clock makes sense here).
#pragma once

#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>

#include "common/clock.h"
#include "resilience/scheduler.h"

namespace tokenizer {

class TimerScheduler final : public Scheduler {
 public:
  explicit TimerScheduler(const Clock& clock = SystemClock::instance());
  ~TimerScheduler() override;
  TimerScheduler(const TimerScheduler&) = delete;
  TimerScheduler& operator=(const TimerScheduler&) = delete;

  TaskId schedule(std::chrono::nanoseconds delay, Task task) override;
  bool cancel(TaskId id) override;

  // Stops the thread (waiting for a running task to return) and drops pending tasks.
  // Idempotent. Must not be called from a task.
  void shutdown();

  // Tasks waiting to run.
  std::size_t pending() const;

 private:
  using TimePoint = std::chrono::steady_clock::time_point;
  using Key = std::pair<TimePoint, TaskId>;
  static constexpr std::chrono::milliseconds kIdleWake{500};
  void run();

  const Clock& clock_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<Key, Task> tasks_;
  std::unordered_map<TaskId, TimePoint> due_;
  TaskId next_id_ = 1;
  bool stopping_ = false;
  // When the waiting thread wakes by itself; TimePoint::min() while it is not waiting.
  TimePoint wake_at_ = TimePoint::min();
  std::once_flag shutdown_once_;
  std::thread thread_;  // last: starts after the members above exist
};

}  // namespace tokenizer
