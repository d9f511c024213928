// DelayedQueue: runs move-only tasks at their deadlines on one timer thread, so that
// upstream-sim can hold a reply for an injected latency (or a hung request for the hang
// cap) without parking a server thread: the handler moves its ResponseWriter into a task
// and returns at once. 1,000 held replies cost 1,000 heap entries, not 1,000 threads.
//
// Usage:
//   DelayedQueue queue(SystemClock::instance());
//   queue.start();
//   queue.schedule(clock.steady() + 100ms, std::make_unique<MyTask>(...));
//   ...
//   queue.stop();   // joins the thread; tasks not yet due are destroyed without running
//
// Every sweep interval the thread also drops tasks whose abandoned() is true (for example,
// the client has gone), destroying them without running them. Tests drive run_due() and
// drop_abandoned() directly with a FakeClock and never start the thread.
//
// Thread-safe: schedule() from any thread; tasks run on the timer thread (or the caller of
// run_due()), outside the queue's lock, in deadline order (FIFO among equal deadlines).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "common/clock.h"

namespace tokenizer {

class DelayedTask {
 public:
  virtual ~DelayedTask() = default;
  // Called once, at or after the deadline.
  virtual void run() = 0;
  // True when running the task is pointless; it is then dropped at the next sweep.
  virtual bool abandoned() const { return false; }
};

class DelayedQueue {
 public:
  explicit DelayedQueue(const Clock& clock,
                        std::chrono::milliseconds sweep_interval = std::chrono::seconds(1));
  ~DelayedQueue();
  DelayedQueue(const DelayedQueue&) = delete;
  DelayedQueue& operator=(const DelayedQueue&) = delete;

  void start();
  void stop();

  void schedule(std::chrono::steady_clock::time_point deadline, std::unique_ptr<DelayedTask> task);

  // Runs, on the calling thread, every task due at `now`; returns how many ran.
  std::size_t run_due(std::chrono::steady_clock::time_point now);
  // Destroys every task whose abandoned() is true; returns how many.
  std::size_t drop_abandoned();

  std::size_t size() const;

 private:
  struct Entry {
    std::chrono::steady_clock::time_point deadline;
    std::uint64_t sequence;
    std::unique_ptr<DelayedTask> task;
  };
  static bool later(const Entry& a, const Entry& b);
  std::vector<std::unique_ptr<DelayedTask>> take_due(std::chrono::steady_clock::time_point now);
  void loop();

  const Clock& clock_;
  const std::chrono::milliseconds sweep_interval_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<Entry> heap_;  // min-heap on (deadline, sequence)
  std::uint64_t next_sequence_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace tokenizer
