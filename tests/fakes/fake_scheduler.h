// FakeScheduler: a Scheduler driven by a test. Tasks run only inside advance()/run_due(),
// on the test's thread, and time is the FakeClock's: advance(d) moves the clock to each
// due task in turn, runs it (tasks it schedules run too if they fall due within d), then
// moves the clock to the end of d. Every delay passed to schedule() is kept in `delays`.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include "fake_clock.h"
#include "resilience/scheduler.h"

namespace tokenizer::testing {

class FakeScheduler final : public Scheduler {
 public:
  explicit FakeScheduler(FakeClock& clock) : clock_(clock) {}

  TaskId schedule(std::chrono::nanoseconds delay, Task task) override {
    std::lock_guard<std::mutex> lock(mu_);
    delays.push_back(delay);
    if (shut_down) return kNoTask;
    const TaskId id = next_id_++;
    const auto due = now_ns() + std::max<std::int64_t>(delay.count(), 0);
    tasks_.emplace(std::make_pair(due, id), std::move(task));
    return id;
  }

  bool cancel(TaskId id) override {
    Task dropped;
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = tasks_.begin(); it != tasks_.end(); ++it) {
      if (it->first.second == id) {
        dropped = std::move(it->second);
        tasks_.erase(it);
        ++cancelled;
        return true;
      }
    }
    return false;
  }

  // Runs every task due at the current time (and those they schedule with no delay).
  void run_due() { advance(std::chrono::nanoseconds(0)); }

  // Moves time forward by `d`, running each task when its time comes.
  template <typename Rep, typename Period>
  void advance(std::chrono::duration<Rep, Period> d) {
    const std::int64_t target =
        now_ns() + std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
    while (auto task = pop_due(target)) (*task)();
    const std::int64_t now = now_ns();
    if (target > now) clock_.advance(std::chrono::nanoseconds(target - now));
  }

  // Moves time to the earliest pending task and runs it; false when nothing is pending.
  bool run_next() {
    std::optional<std::int64_t> due;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (tasks_.empty()) return false;
      due = tasks_.begin()->first.first;
    }
    advance(std::chrono::nanoseconds(std::max<std::int64_t>(*due - now_ns(), 0)));
    return true;
  }

  std::size_t pending() const {
    std::lock_guard<std::mutex> lock(mu_);
    return tasks_.size();
  }

  // Time until the earliest pending task (nullopt when none).
  std::optional<std::chrono::nanoseconds> next_due_in() const {
    std::lock_guard<std::mutex> lock(mu_);
    if (tasks_.empty()) return std::nullopt;
    return std::chrono::nanoseconds(tasks_.begin()->first.first - now_ns());
  }

  std::vector<std::chrono::nanoseconds> delays;  // every schedule() delay, in order
  int cancelled = 0;                             // successful cancel() calls
  bool shut_down = false;                        // knob: schedule() refuses when true

 private:
  std::int64_t now_ns() const {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(clock_.steady().time_since_epoch())
        .count();
  }

  // The earliest task due at or before `target`, after moving the clock to its time.
  std::optional<Task> pop_due(std::int64_t target) {
    std::unique_lock<std::mutex> lock(mu_);
    if (tasks_.empty() || tasks_.begin()->first.first > target) return std::nullopt;
    auto it = tasks_.begin();
    const std::int64_t due = it->first.first;
    Task task = std::move(it->second);
    tasks_.erase(it);
    lock.unlock();
    const std::int64_t now = now_ns();
    if (due > now) clock_.advance(std::chrono::nanoseconds(due - now));
    return task;
  }

  FakeClock& clock_;
  mutable std::mutex mu_;
  std::map<std::pair<std::int64_t, TaskId>, Task> tasks_;
  TaskId next_id_ = 1;
};

}  // namespace tokenizer::testing
