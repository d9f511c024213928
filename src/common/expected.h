// Expected<T>: errors as values between components (after dd-trace-cpp's Expected).
//
// A value of T or an Error{code, message}. `code` is a stable machine-readable string
// (it may reach clients, metrics and logs); `message` is for people and must never hold
// card data or internal exception text that a client could see.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace tokenizer {

struct Error {
  std::string code;
  std::string message;
};

template <typename T>
class Expected {
 public:
  Expected(T value) : data_(std::move(value)) {}           // NOLINT: implicit by design
  Expected(Error error) : data_(std::move(error)) {}       // NOLINT: implicit by design

  bool has_value() const { return std::holds_alternative<T>(data_); }
  explicit operator bool() const { return has_value(); }

  T& value() & { return std::get<T>(data_); }
  const T& value() const& { return std::get<T>(data_); }
  T&& value() && { return std::get<T>(std::move(data_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { return std::get<Error>(data_); }

 private:
  std::variant<T, Error> data_;
};

// For operations that return nothing on success.
struct Ok {};

}  // namespace tokenizer
