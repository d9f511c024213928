// PaymentMethod: a card that passed validation, ready to send to the vault.
//
// Only tokenization/ creates one (from a request body); the vault client reads it. It
// holds the PAN and CVV, so it must never be logged, traced, stored or copied into an
// error: use `masked()` / `first_six()` / `last_four()` for anything that leaves memory.
#pragma once

#include <optional>
#include <string>

namespace tokenizer {

enum class CardBrand { visa, mastercard, amex, discover, jcb, diners, unionpay };

// Stable lowercase name used in responses, metrics labels and spans ("visa", ...).
const char* brand_name(CardBrand brand);

struct PaymentMethod {
  std::string card_number;   // digits only (spaces and dashes removed)
  std::string cvv;           // digits only
  int month = 0;             // 1..12
  int year = 0;              // four digits
  std::string first_name;
  std::string last_name;
  std::optional<std::string> email;
  CardBrand brand = CardBrand::visa;

  std::string first_six() const { return card_number.substr(0, 6); }
  std::string last_four() const {
    return card_number.size() >= 4 ? card_number.substr(card_number.size() - 4) : std::string();
  }
};

}  // namespace tokenizer
