#include "sim/vault_request.h"

#include "tokenization/card_brand.h"

#include <ctime>
#include <optional>

#include <nlohmann/json.hpp>

#include "sim/bounded_json.h"

namespace tokenizer {
namespace {

using nlohmann::json;

bool is_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool is_blank(std::string_view s) {
  for (char c : s) {
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return false;
  }
  return true;
}

// Reads the first `n` digits as an integer (n <= 6).
int prefix(std::string_view digits, std::size_t n) {
  int value = 0;
  for (std::size_t i = 0; i < n && i < digits.size(); ++i) value = value * 10 + (digits[i] - '0');
  return value;
}

bool length_in(std::size_t len, std::initializer_list<std::size_t> allowed) {
  for (auto a : allowed) {
    if (len == a) return true;
  }
  return false;
}

// A month or year given as a JSON integer or a string of digits.
std::optional<long> integer_field(const json& value) {
  if (value.is_number_integer()) return value.get<long>();
  if (value.is_string()) {
    const auto& s = value.get_ref<const std::string&>();
    if (!is_digits(s) || s.size() > 6) return std::nullopt;
    return std::stol(s);
  }
  return std::nullopt;
}

bool present(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return false;
  if (it->is_string()) return !is_blank(it->get_ref<const std::string&>());
  return true;
}

bool well_formed_email(std::string_view email) {
  if (email.size() > 254) return false;
  const auto at = email.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 >= email.size()) return false;
  if (email.find('@', at + 1) != std::string_view::npos) return false;
  const auto domain = email.substr(at + 1);
  const auto dot = domain.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 >= domain.size()) return false;
  for (char c : email) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) return false;
  }
  return true;
}

void check_name(const json& cc, const char* key, const char* label, bool have_full_name,
                std::string& out, std::vector<FieldError>& errors) {
  auto it = cc.find(key);
  if (it != cc.end() && !it->is_null() && !it->is_string()) {
    errors.push_back({key, "errors.invalid", std::string(label) + " is invalid"});
    return;
  }
  if (!present(cc, key)) {
    if (!have_full_name)
      errors.push_back({key, "errors.blank", std::string(label) + " can't be blank"});
    return;
  }
  out = it->get<std::string>();
}

}  // namespace

std::string spreedly_card_type(std::string_view d) {
  if (!is_digits(d)) return "";
  const auto len = d.size();
  const int p2 = prefix(d, 2), p3 = prefix(d, 3), p4 = prefix(d, 4), p6 = prefix(d, 6);
  if (d[0] == '4' && length_in(len, {13, 16, 19})) return "visa";
  if (((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) && len == 16) return "master";
  if ((p2 == 34 || p2 == 37) && len == 15) return "american_express";
  if ((p4 == 6011 || p2 == 65 || (p3 >= 644 && p3 <= 649) || (p6 >= 622126 && p6 <= 622925)) &&
      length_in(len, {16, 19}))
    return "discover";
  if (p4 >= 3528 && p4 <= 3589 && len >= 16 && len <= 19) return "jcb";
  if (((p3 >= 300 && p3 <= 305) || p2 == 36 || p2 == 38 || p2 == 39) && len >= 14 && len <= 19)
    return "diners_club";
  if (p2 == 62 && len >= 16 && len <= 19) return "unionpay";
  return "";
}

Expected<VaultRequestCheck> check_vault_request(std::string_view body,
                                                std::chrono::system_clock::time_point now) {
  auto parsed = parse_bounded_json(body);
  if (!parsed) return parsed.error();
  const json& doc = *parsed;

  VaultRequestCheck out;
  auto& errors = out.errors;
  auto& card = out.card;

  const json* pm = nullptr;
  if (doc.is_object()) {
    auto it = doc.find("payment_method");
    if (it != doc.end() && it->is_object()) pm = &*it;
  }
  const json* cc = nullptr;
  if (pm) {
    auto it = pm->find("credit_card");
    if (it != pm->end() && it->is_object()) cc = &*it;
  }
  if (!cc) {
    errors.push_back({"payment_method_type", "errors.blank", "Credit card can't be blank"});
    return out;
  }

  // Names: full_name may replace first and last names (split at the last space).
  bool have_full_name = false;
  if (auto it = cc->find("full_name");
      it != cc->end() && it->is_string() && present(*cc, "full_name")) {
    have_full_name = true;
    card.full_name = it->get<std::string>();
  }
  check_name(*cc, "first_name", "First name", have_full_name, card.first_name, errors);
  check_name(*cc, "last_name", "Last name", have_full_name, card.last_name, errors);
  if (have_full_name && card.first_name.empty() && card.last_name.empty()) {
    const auto space = card.full_name.find_last_of(' ');
    if (space == std::string::npos) {
      card.last_name = card.full_name;
    } else {
      card.first_name = card.full_name.substr(0, space);
      card.last_name = card.full_name.substr(space + 1);
    }
  }
  if (card.full_name.empty()) {
    card.full_name =
        card.first_name.empty() ? card.last_name : card.first_name + " " + card.last_name;
  }

  // Number.
  if (!present(*cc, "number")) {
    errors.push_back({"number", "errors.blank", "Number can't be blank"});
  } else {
    const json& value = (*cc)["number"];
    std::string digits;
    bool ok = value.is_string();
    if (ok) {
      for (char c : value.get_ref<const std::string&>()) {
        if (c == ' ' || c == '-') continue;
        digits.push_back(c);
      }
      ok = is_digits(digits) && digits.size() >= 12 && digits.size() <= 19 && luhn_valid(digits);
    }
    if (ok) {
      card.number = std::move(digits);
      card.card_type = spreedly_card_type(card.number);
    } else {
      errors.push_back({"number", "errors.invalid", "Number is invalid"});
    }
  }

  // Verification value (CVV): optional, never echoed.
  if (auto it = cc->find("verification_value"); it != cc->end() && !it->is_null()) {
    std::string cvv;
    if (it->is_string()) cvv = it->get<std::string>();
    if (it->is_number_unsigned()) cvv = std::to_string(it->get<unsigned long>());
    if (cvv.empty()) {
      // An empty string is "not given".
      if (!it->is_string())
        errors.push_back({"verification_value", "errors.invalid", "Verification value is invalid"});
    } else if (!is_digits(cvv) || cvv.size() < 3 || cvv.size() > 4) {
      errors.push_back({"verification_value", "errors.invalid", "Verification value is invalid"});
    } else {
      card.has_verification_value = true;
    }
  }

  // Expiry.
  bool month_ok = false, year_ok = false;
  if (!present(*cc, "month")) {
    errors.push_back({"month", "errors.blank", "Month can't be blank"});
  } else if (auto m = integer_field((*cc)["month"]); m && *m >= 1 && *m <= 12) {
    card.month = static_cast<int>(*m);
    month_ok = true;
  } else {
    errors.push_back({"month", "errors.invalid", "Month is invalid"});
  }
  if (!present(*cc, "year")) {
    errors.push_back({"year", "errors.blank", "Year can't be blank"});
  } else if (auto y = integer_field((*cc)["year"]); y && *y >= 1000 && *y <= 9999) {
    card.year = static_cast<int>(*y);
    year_ok = true;
  } else {
    errors.push_back({"year", "errors.invalid", "Year is invalid"});
  }
  if (month_ok && year_ok) {
    const std::time_t t = std::chrono::system_clock::to_time_t(now);
    std::tm utc{};
    gmtime_r(&t, &utc);
    const int now_year = utc.tm_year + 1900;
    const int now_month = utc.tm_mon + 1;
    if (card.year < now_year || (card.year == now_year && card.month < now_month)) {
      errors.push_back({"year", "errors.expired", "Card has expired"});
    }
  }

  // Fields beside credit_card.
  if (auto it = pm->find("email"); it != pm->end() && !it->is_null()) {
    if (!it->is_string() || !well_formed_email(it->get_ref<const std::string&>())) {
      errors.push_back({"email", "errors.invalid", "Email is invalid"});
    } else {
      card.email = it->get<std::string>();
    }
  }
  if (auto it = pm->find("retained"); it != pm->end()) {
    if (it->is_boolean()) {
      card.retained = it->get<bool>();
    } else if (it->is_string()) {
      card.retained = it->get_ref<const std::string&>() == "true";
    }
  }
  return out;
}

}  // namespace tokenizer
