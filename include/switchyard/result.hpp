// What a fallible operation returns: its value, or the error that says why there is none — the
// subset of C++23's std::expected the code uses, until the toolchain has it. The error type is
// the caller's vocabulary: api::ApiError for what a client is answered, a reason string for
// configuration and Redis, providers::ProviderError for an upstream's refusal.
//
//   Result<Url> parse_url(std::string_view text) {
//     if (text.empty()) return Unexpected("empty");
//     return Url{...};
//   }
//   auto url = parse_url(text);
//   if (!url) log(url.error()); else use(*url);
#pragma once

#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace switchyard {

// The error side, as it is returned: `return Unexpected(error);`.
template <class E>
struct Unexpected {
  explicit Unexpected(E e) : error(std::move(e)) {}
  E error;
};
Unexpected(const char*)->Unexpected<std::string>;
template <class E>
Unexpected(E) -> Unexpected<E>;

template <class T, class E = std::string>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  template <class G>
  requires std::is_constructible_v<E, G&&> Result(Unexpected<G> e)
      : v_(std::in_place_index<1>, std::move(e.error)) {}

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }
  T& operator*() & { return std::get<0>(v_); }
  const T& operator*() const& { return std::get<0>(v_); }
  T&& operator*() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  E& error() & { return std::get<1>(v_); }
  const E& error() const& { return std::get<1>(v_); }
  E&& error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, E> v_;
};

// Success without a value, or the error.
template <class E>
class [[nodiscard]] Result<void, E> {
 public:
  Result() = default;
  template <class G>
  requires std::is_constructible_v<E, G&&> Result(Unexpected<G> e)
      : error_(std::in_place, std::move(e.error)) {}

  bool has_value() const { return !error_; }
  explicit operator bool() const { return has_value(); }
  E& error() & { return *error_; }
  const E& error() const& { return *error_; }
  E&& error() && { return *std::move(error_); }

 private:
  std::optional<E> error_;
};

}  // namespace switchyard
