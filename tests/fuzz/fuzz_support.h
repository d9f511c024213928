// Helpers shared by the libFuzzer targets in tests/fuzz: invariant checks that abort (so
// libFuzzer records the input as a crash) and small text utilities for the invariants.
//
// Use: FUZZ_CHECK(condition, "what must hold"); fuzz::longest_digit_run(text) ...
// Header-only, no state; each fuzz target is single-threaded.
#pragma once

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

// Aborts with a message naming the broken invariant (never printing the input itself).
#define FUZZ_CHECK(condition, what)                                                       \
  do {                                                                                    \
    if (!(condition)) {                                                                   \
      std::fprintf(stderr, "%s:%d: invariant broken: %s (%s)\n", __FILE__, __LINE__, what, \
                   #condition);                                                           \
      std::abort();                                                                       \
    }                                                                                     \
  } while (0)

namespace tokenizer::fuzz {

inline bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Longest run of consecutive ASCII digits.
inline std::size_t longest_digit_run(std::string_view s) {
  std::size_t run = 0;
  std::size_t longest = 0;
  for (char c : s) {
    run = is_digit(c) ? run + 1 : 0;
    if (run > longest) longest = run;
  }
  return longest;
}

// Most digits in one group where single spaces or dashes may sit between digits
// ("4111 1111-1111" counts 12), the grouping card numbers are written in.
inline std::size_t longest_grouped_digit_run(std::string_view s) {
  std::size_t longest = 0;
  std::size_t digits = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (is_digit(s[i])) {
      ++digits;
      if (digits > longest) longest = digits;
    } else if ((s[i] == ' ' || s[i] == '-') && digits > 0 && i + 1 < s.size() &&
               is_digit(s[i + 1])) {
      // separator inside a group: keep counting
    } else {
      digits = 0;
    }
  }
  return longest;
}

// Every run of at least `min_length` digits in `input`.
inline std::vector<std::string_view> digit_runs(std::string_view input, std::size_t min_length) {
  std::vector<std::string_view> runs;
  std::size_t i = 0;
  while (i < input.size()) {
    if (!is_digit(input[i])) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < input.size() && is_digit(input[j])) ++j;
    if (j - i >= min_length) runs.push_back(input.substr(i, j - i));
    i = j;
  }
  return runs;
}

// True when `text` contains any `min_length`-digit window of a digit run of `input`.
inline bool leaks_digits_of(std::string_view text, std::string_view input, std::size_t min_length) {
  for (std::string_view run : digit_runs(input, min_length)) {
    for (std::size_t k = 0; k + min_length <= run.size(); ++k) {
      if (text.find(run.substr(k, min_length)) != std::string_view::npos) return true;
    }
  }
  return false;
}

inline bool is_printable_ascii(std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u > 0x7e) return false;
  }
  return true;
}

// Splits at '\n' (a trailing '\r' of each line is kept: it is part of the fuzzed value).
inline std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) {
      lines.push_back(text.substr(start));
      break;
    }
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

}  // namespace tokenizer::fuzz
