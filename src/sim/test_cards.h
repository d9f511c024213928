// TestCards: the card numbers upstream-sim answers with a fixed behaviour, so the service's
// tests, the demo and the benchmarks can reach every vault outcome without switching faults.
// All are Luhn-valid Visa test numbers, distinct from the common test cards in VAULT-API.md
// (those, and any other valid number, are tokenized normally: 201).
//
//   number            behaviour         reply (error bodies: {"errors": [{..., "key", "message"}]})
//   4000000000000002  rejected          422, attribute "number", key errors.processing_failed
//   4000000000000069  account_inactive  402, key errors.account_inactive
//   4000000000000119  server_error      500, key errors.internal_server_error
//   4000000000009995  unavailable       503 + Retry-After: 1, key errors.service_unavailable
//   4000000000000341  slow              201 (normal success) after an extra 2000 ms
//   4000000000000101  hang              never answered (held until the client leaves or the
//                                       hang cap, then reset)
//
// The behaviour applies only to requests that pass authentication and validation, and
// after any fault from /__sim/faults has been considered. `GET /__sim/cards` returns this
// table as JSON. Static data; thread-safe.
#pragma once

#include <chrono>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace tokenizer {

struct TestCard {
  std::string_view number;
  std::string_view behaviour;  // short name, see the table above
  int status;                  // reply status (201 for success-like behaviours)
  std::string_view error_key;  // vault error key; empty on success
  std::string_view message;    // vault error message; empty on success
  int retry_after_seconds;     // 0: no Retry-After header
  std::chrono::milliseconds extra_delay;
  bool hang;  // never answer
};

const std::vector<TestCard>& test_cards();

// The card with these digits, or nullptr.
const TestCard* find_test_card(std::string_view digits);

// {"cards": [{"number", "behaviour", "status", "error_key", "retry_after", "extra_delay_ms",
//             "hang"}]}
nlohmann::json test_cards_json();

}  // namespace tokenizer
