#include "sim/test_cards.h"

namespace tokenizer {

const std::vector<TestCard>& test_cards() {
  using std::chrono::milliseconds;
  static const std::vector<TestCard> kCards = {
      {"4000000000000002", "rejected", 422, "errors.processing_failed",
       "The card was rejected by the vault (upstream-sim test card)", 0, milliseconds(0), false},
      {"4000000000000069", "account_inactive", 402, "errors.account_inactive",
       "Your environment is not activated for real cards (upstream-sim test card)", 0,
       milliseconds(0), false},
      {"4000000000000119", "server_error", 500, "errors.internal_server_error",
       "Internal server error (upstream-sim test card)", 0, milliseconds(0), false},
      {"4000000000009995", "unavailable", 503, "errors.service_unavailable",
       "Service temporarily unavailable (upstream-sim test card)", 1, milliseconds(0), false},
      {"4000000000000341", "slow", 201, "", "", 0, milliseconds(2000), false},
      {"4000000000000101", "hang", 0, "", "", 0, milliseconds(0), true},
  };
  return kCards;
}

const TestCard* find_test_card(std::string_view digits) {
  for (const auto& card : test_cards()) {
    if (card.number == digits) return &card;
  }
  return nullptr;
}

nlohmann::json test_cards_json() {
  auto cards = nlohmann::json::array();
  for (const auto& card : test_cards()) {
    nlohmann::json entry;
    entry["number"] = std::string(card.number);
    entry["behaviour"] = std::string(card.behaviour);
    entry["status"] = card.hang ? nlohmann::json(nullptr) : nlohmann::json(card.status);
    entry["error_key"] = card.error_key.empty() ? nlohmann::json(nullptr)
                                                : nlohmann::json(std::string(card.error_key));
    entry["retry_after"] = card.retry_after_seconds > 0 ? nlohmann::json(card.retry_after_seconds)
                                                        : nlohmann::json(nullptr);
    entry["extra_delay_ms"] = card.extra_delay.count();
    entry["hang"] = card.hang;
    cards.push_back(std::move(entry));
  }
  return nlohmann::json{{"cards", std::move(cards)}};
}

}  // namespace tokenizer
