#include "resilience/load_shedder.h"

#include <algorithm>

namespace tokenizer {

LoadShedder::InFlightToken& LoadShedder::InFlightToken::operator=(InFlightToken&& other) noexcept {
  if (this != &other) {
    release();
    owner_ = other.owner_;
    other.owner_ = nullptr;
  }
  return *this;
}

void LoadShedder::InFlightToken::release() {
  if (owner_ != nullptr) {
    owner_->leave();
    owner_ = nullptr;
  }
}

LoadShedder::LoadShedder(int max_in_flight) : limit_(std::max(max_in_flight, 1)) {}

std::optional<LoadShedder::InFlightToken> LoadShedder::try_enter() {
  int current = in_flight_.load(std::memory_order_relaxed);
  while (current < limit_) {
    if (in_flight_.compare_exchange_weak(current, current + 1, std::memory_order_acq_rel,
                                         std::memory_order_relaxed)) {
      return InFlightToken(this);
    }
  }
  shed_total_.fetch_add(1, std::memory_order_relaxed);
  return std::nullopt;
}

}  // namespace tokenizer
