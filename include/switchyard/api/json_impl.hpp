// Template part of json.hpp; include json.hpp, not this.
#pragma once

#include <type_traits>

namespace switchyard::api::json {

namespace detail {
// The type of a validated value, from its first character.
inline Type type_of(char first) {
  switch (first) {
    case '{':
      return Type::object;
    case '[':
      return Type::array;
    case '"':
      return Type::string;
    case 'n':
      return Type::null;
    case 't':
    case 'f':
      return Type::boolean;
    default:
      return Type::number;
  }
}
// The validated value at the cursor, which moves past it.
inline Value next_validated(Cursor& c) {
  const std::size_t begin = c.pos();
  const char first = c.peek();
  c.skip_validated();
  return Value{type_of(first), c.since(begin)};
}
}  // namespace detail

template <class OnItem>
bool Cursor::container(int depth, char close, OnItem&& on_item) {
  if (depth >= kMaxDepth) return fail("JSON nested too deeply");
  const bool is_object = close == '}';
  ++pos_;  // '{' or '['
  skip_ws();
  if (consume(close)) return true;
  for (;;) {
    skip_ws();
    std::string_view key;
    if (is_object) {
      if (!string(&key)) return false;
      skip_ws();
      if (!consume(':')) return fail("expected ':' after an object key");
      skip_ws();
    }
    if (!on_item(key)) return false;
    skip_ws();
    if (consume(',')) continue;
    if (consume(close)) return true;
    return fail(is_object ? "expected ',' or '}' in an object" : "expected ',' or ']' in an array");
  }
}

template <class OnMember>
bool Cursor::object(int depth, OnMember&& on_member) {
  if (peek() != '{') return fail("expected an object");
  return container(depth, '}', on_member);
}

template <class OnElement>
bool Cursor::array(int depth, OnElement&& on_element) {
  if (peek() != '[') return fail("expected an array");
  return container(depth, ']', [&](std::string_view) { return on_element(); });
}

template <class OnMember>
std::optional<ScanError> scan(std::string_view text, OnMember&& on_member) {
  Cursor c(text);
  c.skip_ws();
  Value v;
  const bool ok = c.peek() == '{' ? c.object(0,
                                             [&](std::string_view key) {
                                               if (!c.value(1, &v)) return false;
                                               on_member(key, v);
                                               return true;
                                             })
                                  : c.value(0, &v);
  if (!ok) return c.error();
  c.skip_ws();
  if (!c.at_end()) {
    c.fail("unexpected text after the JSON value");
    return c.error();
  }
  return std::nullopt;
}

template <class OnElement>
void for_each_element(std::string_view array_raw, OnElement&& on_element) {
  Cursor c(array_raw);
  c.consume('[');
  c.skip_ws();
  if (c.consume(']')) return;
  for (;;) {
    c.skip_ws();
    on_element(detail::next_validated(c));
    c.skip_ws();
    if (!c.consume(',')) return;
  }
}

template <class OnMember>
void for_each_member(std::string_view object_raw, OnMember&& on_member) {
  Cursor c(object_raw);
  c.consume('{');
  c.skip_ws();
  if (c.consume('}')) return;
  for (;;) {
    c.skip_ws();
    std::string_view key;
    c.string(&key);
    c.skip_ws();
    c.consume(':');
    c.skip_ws();
    if constexpr (std::is_same_v<decltype(on_member(key, detail::next_validated(c))), bool>) {
      if (!on_member(key, detail::next_validated(c))) return;
    } else {
      on_member(key, detail::next_validated(c));
    }
    c.skip_ws();
    if (!c.consume(',')) return;
  }
}

}  // namespace switchyard::api::json
