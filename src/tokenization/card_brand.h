// Card brand rules: which brand a card number belongs to (from its IIN, the leading
// digits), which lengths that brand issues, its CVV length, and the Luhn check.
//
// Pure functions over a digits-only card number (spaces and dashes already removed);
// no allocation, thread-safe. Used by the request parser; upstream-sim may reuse them to
// validate like the real vault.
//
// IIN ranges (inclusive) and lengths:
//   visa        4                                          13, 16, 19
//   mastercard  51–55, 2221–2720                           16
//   amex        34, 37                                     15
//   discover    6011, 644–649, 65                          16–19
//   jcb         3528–3589                                  16–19
//   diners      300–305, 36, 38, 39                        14–19
//   unionpay    62 (all of it, including 622126–622925)    16–19
// Overlap decision: 622126–622925 is UnionPay-issued BINs that the Discover network also
// accepts (a co-acceptance agreement). Brand means the issuer's brand here, and that is
// how the vault itself classifies them (Spreedly's card detection reports 622126–622925
// as unionpay), so the whole 62 range is unionpay and never discover.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "tokenization/payment_method.h"

namespace tokenizer {

// Shortest and longest card number (in digits) of any supported brand.
inline constexpr std::size_t kMinCardDigits = 12;
inline constexpr std::size_t kMaxCardDigits = 19;

// The brand whose IIN range the number starts with, or nullopt. `digits` must hold only
// ASCII digits; a number shorter than 6 digits is matched on the digits it has (a range
// needing more digits than that does not match).
std::optional<CardBrand> detect_card_brand(std::string_view digits);

// Whether `brand` issues card numbers of `digit_count` digits.
bool is_valid_card_length(CardBrand brand, std::size_t digit_count);

// The CVV length of the brand: 4 for amex (its CID), 3 otherwise.
std::size_t cvv_length(CardBrand brand);

// Luhn (mod 10) check. False for an empty string or any non-digit.
bool luhn_valid(std::string_view digits);

}  // namespace tokenizer
