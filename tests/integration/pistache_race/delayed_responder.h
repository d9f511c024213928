// DelayedResponder: answers Pistache requests later, from its own thread.
//
// The race server (race_server_main.cpp) hands every request's ResponseWriter to
// `schedule()` together with the request's X-Request-Id and returns at once, as an
// asynchronous handler waiting for an upstream would. A dedicated thread sends each reply
// after a delay drawn uniformly from [min_delay, max_delay] (jitter from the injected
// Random), with a JSON body and an `X-Request-Id` header carrying the id, and
// `Connection: keep-alive`. This is the shape of reply that Pistache 0.4.26 could write to
// the wrong connection (see third_party/pistache/README.md).
//
// Thread-safety: schedule() may be called from any thread; the sending thread is started
// by the constructor and joined by stop() or the destructor (pending replies are dropped).
// Ownership: the responder owns the ResponseWriters it was given; `random` must outlive it
// and is only used under the responder's lock.
#pragma once

#include <pistache/http.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "common/random.h"

namespace tokenizer::pistache_race {

class DelayedResponder {
 public:
  DelayedResponder(std::chrono::microseconds min_delay, std::chrono::microseconds max_delay,
                   Random& random);
  ~DelayedResponder();

  DelayedResponder(const DelayedResponder&) = delete;
  DelayedResponder& operator=(const DelayedResponder&) = delete;

  // Queues `writer` to be answered with `request_id` after the jittered delay.
  void schedule(Pistache::Http::ResponseWriter writer, std::string request_id);

  // Stops the sending thread; replies not sent yet are dropped. Idempotent.
  void stop();

  // Replies handed to Pistache so far (whether or not the peer was still there).
  std::uint64_t sent() const;

 private:
  struct Pending {
    Pistache::Http::ResponseWriter writer;
    std::string request_id;
  };

  void run();
  static void reply(Pending& pending);

  const std::chrono::microseconds min_delay_;
  const std::chrono::microseconds max_delay_;
  Random& random_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::multimap<std::chrono::steady_clock::time_point, Pending> pending_;
  bool stopping_ = false;
  std::uint64_t sent_ = 0;
  std::thread thread_;
};

}  // namespace tokenizer::pistache_race
