// FakeRandom: a Random that returns scripted values (cycling), or a constant.
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

#include "common/random.h"

namespace tokenizer::testing {

class FakeRandom final : public Random {
 public:
  // Every draw returns `value`.
  explicit FakeRandom(std::uint64_t value = 0) : values_{value} {}
  explicit FakeRandom(std::vector<std::uint64_t> values) : values_(std::move(values)) {}

  // A draw whose next_unit() is approximately `u` (0 <= u < 1).
  static std::uint64_t unit(double u) {
    return static_cast<std::uint64_t>(u * 0x1.0p53) << 11;
  }

  std::uint64_t next_u64() override {
    ++draws;
    const auto v = values_[next_ % values_.size()];
    ++next_;
    return v;
  }

  int draws = 0;

 private:
  std::vector<std::uint64_t> values_;
  std::size_t next_ = 0;
};

}  // namespace tokenizer::testing
