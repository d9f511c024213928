#include "tokenization/card_brand.h"

namespace tokenizer {
namespace {

struct IinRange {
  unsigned low;
  unsigned high;
  std::size_t prefix_digits;  // how many leading digits low/high describe
  CardBrand brand;
};

// Non-overlapping by construction (see the header for the 62 decision).
constexpr IinRange kIinRanges[] = {
    {4, 4, 1, CardBrand::visa},
    {51, 55, 2, CardBrand::mastercard},
    {2221, 2720, 4, CardBrand::mastercard},
    {34, 34, 2, CardBrand::amex},
    {37, 37, 2, CardBrand::amex},
    {6011, 6011, 4, CardBrand::discover},
    {644, 649, 3, CardBrand::discover},
    {65, 65, 2, CardBrand::discover},
    {3528, 3589, 4, CardBrand::jcb},
    {300, 305, 3, CardBrand::diners},
    {36, 36, 2, CardBrand::diners},
    {38, 38, 2, CardBrand::diners},
    {39, 39, 2, CardBrand::diners},
    {62, 62, 2, CardBrand::unionpay},
};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

const char* brand_name(CardBrand brand) {
  switch (brand) {
    case CardBrand::visa: return "visa";
    case CardBrand::mastercard: return "mastercard";
    case CardBrand::amex: return "amex";
    case CardBrand::discover: return "discover";
    case CardBrand::jcb: return "jcb";
    case CardBrand::diners: return "diners";
    case CardBrand::unionpay: return "unionpay";
  }
  return "unknown";
}

std::optional<CardBrand> detect_card_brand(std::string_view digits) {
  for (const auto& range : kIinRanges) {
    if (digits.size() < range.prefix_digits) continue;
    unsigned prefix = 0;
    bool all_digits = true;
    for (std::size_t i = 0; i < range.prefix_digits; ++i) {
      if (!is_digit(digits[i])) {
        all_digits = false;
        break;
      }
      prefix = prefix * 10 + static_cast<unsigned>(digits[i] - '0');
    }
    if (all_digits && prefix >= range.low && prefix <= range.high) return range.brand;
  }
  return std::nullopt;
}

bool is_valid_card_length(CardBrand brand, std::size_t n) {
  switch (brand) {
    case CardBrand::visa: return n == 13 || n == 16 || n == 19;
    case CardBrand::mastercard: return n == 16;
    case CardBrand::amex: return n == 15;
    case CardBrand::discover:
    case CardBrand::jcb:
    case CardBrand::unionpay: return n >= 16 && n <= 19;
    case CardBrand::diners: return n >= 14 && n <= 19;
  }
  return false;
}

std::size_t cvv_length(CardBrand brand) { return brand == CardBrand::amex ? 4 : 3; }

bool luhn_valid(std::string_view digits) {
  if (digits.empty()) return false;
  unsigned sum = 0;
  bool double_it = false;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    if (!is_digit(*it)) return false;
    unsigned d = static_cast<unsigned>(*it - '0');
    if (double_it) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double_it = !double_it;
  }
  return sum % 10 == 0;
}

}  // namespace tokenizer
