// A validating JSON scanner for the hot path: it checks a document against RFC 8259 in one pass
// and reports where each member of the top-level object sits in the original bytes, so the
// gateway can read the few fields it needs and rewrite one value without a DOM round trip.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace switchyard::api::json {

enum class Type { null, boolean, number, string, array, object };

// A value as it appears in the source text: `raw` views the exact bytes (strings keep their
// quotes and escapes).
struct Value {
  Type type = Type::null;
  std::string_view raw;

  bool is_true() const { return type == Type::boolean && raw.size() == 4; }
};

struct ScanError {
  std::size_t offset = 0;
  const char* what = "";
};

// Nesting deeper than this is rejected: bounded recursion, and no real request nests this far.
inline constexpr int kMaxDepth = 128;

// Validates `text` as exactly one JSON value (surrounding whitespace allowed). When the value is
// an object, calls on_member(key_raw, value) for each top-level member in order, key_raw being
// the key's text between the quotes (escapes not decoded). Returns the error, if any.
template <class OnMember>
std::optional<ScanError> scan(std::string_view text, OnMember&& on_member);

// Validates without reporting members.
std::optional<ScanError> validate(std::string_view text);

// Iterates an already validated array or object without re-validating it.
template <class OnElement>
void for_each_element(std::string_view array_raw, OnElement&& on_element);
template <class OnMember>
void for_each_member(std::string_view object_raw, OnMember&& on_member);

// Decodes a string value's raw text (with quotes) or a key's raw text (without): escapes and
// \u sequences, surrogate pairs included. The input must have passed validation.
std::string unescape(std::string_view raw);
// True when `key_raw` (as passed to on_member) denotes `name`, escapes considered.
bool key_equals(std::string_view key_raw, std::string_view name);
// Appends `text` as a quoted JSON string.
void append_quoted(std::string& out, std::string_view text);

}  // namespace switchyard::api::json

#include "switchyard/api/json_impl.hpp"
