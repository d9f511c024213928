#include "resilience/timer_scheduler.h"

#include <algorithm>

namespace tokenizer {

TimerScheduler::TimerScheduler(const Clock& clock) : clock_(clock), thread_([this] { run(); }) {}

TimerScheduler::~TimerScheduler() { shutdown(); }

Scheduler::TaskId TimerScheduler::schedule(std::chrono::nanoseconds delay, Task task) {
  const TimePoint due = clock_.steady() + std::max(delay, std::chrono::nanoseconds(0));
  bool notify = false;
  TaskId id = kNoTask;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return kNoTask;
    id = next_id_++;
    tasks_.emplace(Key{due, id}, std::move(task));
    due_.emplace(id, due);
    notify = due < wake_at_;  // due before the waiting thread wakes by itself
  }
  if (notify) cv_.notify_one();
  return id;
}

bool TimerScheduler::cancel(TaskId id) {
  Task dropped;  // destroyed after the lock is released
  std::lock_guard<std::mutex> lock(mu_);
  auto d = due_.find(id);
  if (d == due_.end()) return false;
  auto it = tasks_.find(Key{d->second, id});
  due_.erase(d);
  if (it == tasks_.end()) return false;
  dropped = std::move(it->second);
  tasks_.erase(it);
  return true;
}

void TimerScheduler::shutdown() {
  // call_once: a second caller waits until the first has joined the thread.
  std::call_once(shutdown_once_, [this] {
    std::map<Key, Task> dropped;  // destroyed outside the lock
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    thread_.join();
    std::lock_guard<std::mutex> lock(mu_);
    dropped.swap(tasks_);
    due_.clear();
  });
}

std::size_t TimerScheduler::pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return tasks_.size();
}

void TimerScheduler::run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    auto it = tasks_.begin();
    const TimePoint now = clock_.steady();
    if (it == tasks_.end() || it->first.first > now) {
      wake_at_ = now + kIdleWake;
      if (it != tasks_.end()) wake_at_ = std::min(wake_at_, it->first.first);
      cv_.wait_for(lock, wake_at_ - now);
      wake_at_ = TimePoint::min();  // re-checks the tasks before it waits again
      continue;
    }
    Task task = std::move(it->second);
    due_.erase(it->first.second);
    tasks_.erase(it);
    lock.unlock();
    task();
    task = nullptr;  // release what it captured before taking the lock again
    lock.lock();
  }
}

}  // namespace tokenizer
