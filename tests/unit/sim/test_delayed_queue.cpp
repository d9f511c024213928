#include "sim/delayed_queue.h"

#include <future>
#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include "fake_clock.h"

namespace tokenizer {
namespace {

using std::chrono::milliseconds;

// Records its id when run; `gone` makes it abandoned.
class RecordingTask final : public DelayedTask {
 public:
  RecordingTask(int id, std::vector<int>& ran, int* destroyed = nullptr, bool gone = false)
      : id_(id), ran_(ran), destroyed_(destroyed), gone_(gone) {}
  ~RecordingTask() override {
    if (destroyed_ != nullptr) ++*destroyed_;
  }
  void run() override { ran_.push_back(id_); }
  bool abandoned() const override { return gone_; }

 private:
  int id_;
  std::vector<int>& ran_;
  int* destroyed_;
  bool gone_;
};

TEST(DelayedQueue, RunsDueTasksInDeadlineOrderFifoAmongEquals) {
  testing::FakeClock clock;
  DelayedQueue queue(clock);
  std::vector<int> ran;
  const auto t0 = clock.steady();
  queue.schedule(t0 + milliseconds(30), std::make_unique<RecordingTask>(3, ran));
  queue.schedule(t0 + milliseconds(10), std::make_unique<RecordingTask>(1, ran));
  queue.schedule(t0 + milliseconds(20), std::make_unique<RecordingTask>(2, ran));
  queue.schedule(t0 + milliseconds(20), std::make_unique<RecordingTask>(22, ran));
  EXPECT_EQ(queue.run_due(t0 + milliseconds(5)), 0u);
  EXPECT_EQ(queue.run_due(t0 + milliseconds(20)), 3u);
  EXPECT_EQ(ran, (std::vector<int>{1, 2, 22}));
  EXPECT_EQ(queue.size(), 1u);
  EXPECT_EQ(queue.run_due(t0 + milliseconds(100)), 1u);
  EXPECT_EQ(ran, (std::vector<int>{1, 2, 22, 3}));
  EXPECT_EQ(queue.size(), 0u);
}

TEST(DelayedQueue, DropsAbandonedTasksWithoutRunningThem) {
  testing::FakeClock clock;
  DelayedQueue queue(clock);
  std::vector<int> ran;
  int destroyed = 0;
  const auto t0 = clock.steady();
  queue.schedule(t0 + milliseconds(10), std::make_unique<RecordingTask>(1, ran, &destroyed, true));
  queue.schedule(t0 + milliseconds(20), std::make_unique<RecordingTask>(2, ran, &destroyed, false));
  queue.schedule(t0 + milliseconds(5), std::make_unique<RecordingTask>(3, ran, &destroyed, true));
  EXPECT_EQ(queue.drop_abandoned(), 2u);
  EXPECT_EQ(destroyed, 2);
  EXPECT_EQ(queue.run_due(t0 + milliseconds(100)), 1u);
  EXPECT_EQ(ran, (std::vector<int>{2}));
}

TEST(DelayedQueue, StopDestroysPendingTasksWithoutRunningThem) {
  testing::FakeClock clock;
  std::vector<int> ran;
  int destroyed = 0;
  {
    DelayedQueue queue(clock);
    queue.schedule(clock.steady() + std::chrono::hours(1),
                   std::make_unique<RecordingTask>(1, ran, &destroyed));
    queue.stop();
    EXPECT_EQ(destroyed, 1);
  }
  EXPECT_TRUE(ran.empty());
}

// The timer thread itself, with the real clock: a task fires once due, and an earlier
// task scheduled later still fires first.
class PromiseTask final : public DelayedTask {
 public:
  explicit PromiseTask(std::promise<int>& promise, int id) : promise_(promise), id_(id) {}
  void run() override { promise_.set_value(id_); }

 private:
  std::promise<int>& promise_;
  int id_;
};

TEST(DelayedQueue, TimerThreadRunsTasksAtTheirDeadlines) {
  const Clock& clock = SystemClock::instance();
  DelayedQueue queue(clock);
  queue.start();
  std::promise<int> late, early;
  const auto start = clock.steady();
  queue.schedule(start + std::chrono::seconds(30), std::make_unique<PromiseTask>(late, 1));
  queue.schedule(start + milliseconds(20), std::make_unique<PromiseTask>(early, 2));
  auto fired = early.get_future();
  ASSERT_EQ(fired.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_EQ(fired.get(), 2);
  EXPECT_GE(clock.steady() - start, milliseconds(20));
  EXPECT_EQ(queue.size(), 1u);
  queue.stop();  // the 30 s task is dropped, never run
  EXPECT_EQ(queue.size(), 0u);
}

}  // namespace
}  // namespace tokenizer
