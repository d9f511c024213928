#include "sim/delayed_queue.h"

#include <algorithm>

namespace tokenizer {
namespace {

// A task that throws must not take the timer thread (and every held reply) with it.
void run_guarded(DelayedTask& task) {
  try {
    task.run();
  } catch (...) {
  }
}

}  // namespace

DelayedQueue::DelayedQueue(const Clock& clock, std::chrono::milliseconds sweep_interval)
    : clock_(clock), sweep_interval_(sweep_interval) {}

DelayedQueue::~DelayedQueue() { stop(); }

bool DelayedQueue::later(const Entry& a, const Entry& b) {
  if (a.deadline != b.deadline) return a.deadline > b.deadline;
  return a.sequence > b.sequence;
}

void DelayedQueue::start() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { loop(); });
}

void DelayedQueue::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::vector<Entry> left;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    left.swap(heap_);
  }
  // `left` is destroyed here, outside the lock.
}

void DelayedQueue::schedule(std::chrono::steady_clock::time_point deadline,
                            std::unique_ptr<DelayedTask> task) {
  bool earliest = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    earliest = heap_.empty() || deadline < heap_.front().deadline;
    heap_.push_back(Entry{deadline, next_sequence_++, std::move(task)});
    std::push_heap(heap_.begin(), heap_.end(), later);
  }
  // Only a new earliest deadline changes how long the timer thread must sleep.
  if (earliest) wake_.notify_one();
}

std::vector<std::unique_ptr<DelayedTask>> DelayedQueue::take_due(
    std::chrono::steady_clock::time_point now) {
  std::vector<std::unique_ptr<DelayedTask>> due;
  while (!heap_.empty() && heap_.front().deadline <= now) {
    std::pop_heap(heap_.begin(), heap_.end(), later);
    due.push_back(std::move(heap_.back().task));
    heap_.pop_back();
  }
  return due;
}

std::size_t DelayedQueue::run_due(std::chrono::steady_clock::time_point now) {
  std::vector<std::unique_ptr<DelayedTask>> due;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    due = take_due(now);
  }
  for (auto& task : due) run_guarded(*task);
  return due.size();
}

std::size_t DelayedQueue::drop_abandoned() {
  std::vector<std::unique_ptr<DelayedTask>> dropped;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto keep_end = std::partition(heap_.begin(), heap_.end(),
                                   [](const Entry& e) { return !e.task->abandoned(); });
    for (auto it = keep_end; it != heap_.end(); ++it) dropped.push_back(std::move(it->task));
    heap_.erase(keep_end, heap_.end());
    std::make_heap(heap_.begin(), heap_.end(), later);
  }
  return dropped.size();
}

std::size_t DelayedQueue::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return heap_.size();
}

void DelayedQueue::loop() {
  auto next_sweep = clock_.steady() + sweep_interval_;
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    const auto now = clock_.steady();
    if (now >= next_sweep) {
      lock.unlock();
      drop_abandoned();
      lock.lock();
      next_sweep = now + sweep_interval_;
      continue;
    }
    auto due = take_due(now);
    if (!due.empty()) {
      lock.unlock();
      for (auto& task : due) run_guarded(*task);
      due.clear();  // destroy outside the lock too
      lock.lock();
      continue;
    }
    auto wake_at = next_sweep;
    if (!heap_.empty() && heap_.front().deadline < wake_at) wake_at = heap_.front().deadline;
    // The clock's steady time and std::chrono::steady_clock agree for SystemClock, the only
    // clock the thread runs with (tests drive run_due() instead).
    wake_.wait_until(lock, wake_at);
  }
}

}  // namespace tokenizer
