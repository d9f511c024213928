// FakeTransport: an HttpTransport for unit tests that records every request and completes
// it with scripted results, either at once (inside send(), when `complete_immediately`) or
// when the test calls complete_next().
//
//   testing::FakeTransport transport;
//   transport.script(testing::FakeTransport::reply(201, R"({"transaction": ...})"));
//   client.create_payment_method(card, options, done);   // done runs inside send()
//   EXPECT_EQ(transport.requests().at(0).url, "...");
//
// Results come from the `script()` queue in order, then `fallback`. Callbacks run on the
// thread that calls send() (immediate mode) or complete_next(); note that immediate mode
// deliberately breaks the real contract's "never from send()" rule to keep tests
// single-threaded. Thread-safe (one mutex; callbacks run outside it).
#pragma once

#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "upstream/http_transport.h"

namespace tokenizer::testing {

class FakeTransport final : public HttpTransport {
 public:
  // Knobs.
  bool complete_immediately = true;  // false: requests wait for complete_next()
  HttpResult fallback = error(TransportError::Kind::other, false);  // when the script is empty

  // Scripted results, used in order.
  void script(HttpResult result) {
    std::lock_guard<std::mutex> lock(mutex_);
    script_.push_back(std::move(result));
  }

  void send(HttpRequest request, Callback done) override {
    HttpResult result;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      requests_.push_back(request);
      if (shut_down_) {
        result = error(TransportError::Kind::cancelled, false);
      } else if (!complete_immediately) {
        pending_.push_back(std::move(done));
        return;
      } else {
        result = next_result_locked();
      }
    }
    done(std::move(result));
  }

  // Completes the oldest pending request with the next scripted result (or `result`).
  // Returns false when nothing is pending.
  bool complete_next() {
    Callback done;
    HttpResult result;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (pending_.empty()) return false;
      done = std::move(pending_.front());
      pending_.pop_front();
      result = next_result_locked();
    }
    done(std::move(result));
    return true;
  }
  bool complete_next(HttpResult result) {
    Callback done;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (pending_.empty()) return false;
      done = std::move(pending_.front());
      pending_.pop_front();
    }
    done(std::move(result));
    return true;
  }

  // Completes every pending request with `cancelled`; later sends complete with it at once.
  void shutdown() override {
    std::deque<Callback> pending;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      shut_down_ = true;
      pending.swap(pending_);
    }
    for (auto& done : pending) done(error(TransportError::Kind::cancelled, false));
  }

  std::vector<HttpRequest> requests() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }
  std::size_t request_count() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_.size();
  }
  std::size_t pending_count() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return pending_.size();
  }
  bool is_shut_down() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return shut_down_;
  }

  // Builders for scripted results.
  static HttpResult reply(int status, std::string body,
                          std::map<std::string, std::string> headers = {}) {
    HttpResult r;
    r.response = HttpResponse{status, std::move(headers), std::move(body)};
    return r;
  }
  static HttpResult error(TransportError::Kind kind, bool request_sent,
                          std::string message = "scripted") {
    HttpResult r;
    r.error.kind = kind;
    r.error.request_sent = request_sent;
    r.error.message = std::move(message);
    return r;
  }

 private:
  HttpResult next_result_locked() {
    if (script_.empty()) return fallback;
    HttpResult r = std::move(script_.front());
    script_.pop_front();
    return r;
  }

  mutable std::mutex mutex_;
  std::deque<HttpResult> script_;
  std::deque<Callback> pending_;
  std::vector<HttpRequest> requests_;
  bool shut_down_ = false;
};

}  // namespace tokenizer::testing
