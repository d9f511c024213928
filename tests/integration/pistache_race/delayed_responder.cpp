#include "delayed_responder.h"

#include "race_reply.h"

#include <exception>
#include <utility>

namespace tokenizer::pistache_race {

DelayedResponder::DelayedResponder(std::chrono::microseconds min_delay,
                                   std::chrono::microseconds max_delay, Random& random)
    : min_delay_(min_delay),
      max_delay_(max_delay < min_delay ? min_delay : max_delay),
      random_(random),
      thread_([this] { run(); }) {}

DelayedResponder::~DelayedResponder() { stop(); }

void DelayedResponder::schedule(Pistache::Http::ResponseWriter writer, std::string request_id) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto span = (max_delay_ - min_delay_).count();
    const auto jitter = static_cast<std::int64_t>(random_.next_unit() * static_cast<double>(span + 1));
    const auto due = std::chrono::steady_clock::now() + min_delay_ + std::chrono::microseconds(jitter);
    pending_.emplace(due, Pending{std::move(writer), std::move(request_id)});
  }
  wake_.notify_one();
}

void DelayedResponder::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(mutex_);
  pending_.clear();
}

std::uint64_t DelayedResponder::sent() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return sent_;
}

void DelayedResponder::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    if (pending_.empty()) {
      wake_.wait(lock);
      continue;
    }
    const auto due = pending_.begin()->first;
    if (std::chrono::steady_clock::now() < due) {
      wake_.wait_until(lock, due);
      continue;
    }
    auto node = pending_.extract(pending_.begin());
    lock.unlock();
    reply(node.mapped());
    lock.lock();
    ++sent_;
  }
}

void DelayedResponder::reply(Pending& pending) {
  try {
    send_race_reply(pending.writer, pending.request_id);
  } catch (const std::exception&) {
    // The peer is gone: there is nobody to answer.
  }
}

}  // namespace tokenizer::pistache_race
