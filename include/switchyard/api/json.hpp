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
  // A number without a fraction or an exponent.
  bool is_integer() const {
    return type == Type::number && raw.find_first_of(".eE") == std::string_view::npos;
  }
};

struct ScanError {
  std::size_t offset = 0;
  const char* what = "";
};

// Nesting deeper than this is rejected: bounded recursion, and no real request nests this far.
inline constexpr int kMaxDepth = 128;

// A validating pull parser over one text. value() validates whatever value is at the cursor;
// object() and array() validate a container while handing each member or element to the
// caller, who consumes it — with value(), or by walking into it — so a caller that needs a few
// fields deep inside reads them in the same single pass that validates the document.
class Cursor {
 public:
  explicit Cursor(std::string_view text) : text_(text) {}

  static bool is_ws(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }
  void skip_ws() {
    while (pos_ < text_.size() && is_ws(text_[pos_])) ++pos_;
  }
  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  bool consume(char c) {
    if (pos_ >= text_.size() || text_[pos_] != c) return false;
    ++pos_;
    return true;
  }
  std::size_t pos() const { return pos_; }
  std::string_view since(std::size_t begin) const { return text_.substr(begin, pos_ - begin); }

  // The value at the cursor, validated; `depth` is its nesting level. False on error.
  bool value(int depth, Value* out);
  // A string at the cursor; *contents is its raw text between the quotes.
  bool string(std::string_view* contents);
  // The object at the cursor: on_member(key_raw) is called with the cursor at the member's
  // value and returns false to stop (after an error). `depth` is the object's level.
  template <class OnMember>
  bool object(int depth, OnMember&& on_member);
  // The array at the cursor: on_element() is called with the cursor at each element.
  template <class OnElement>
  bool array(int depth, OnElement&& on_element);

  // Records the first error (the position is the cursor's); returns false.
  bool fail(const char* what) {
    if (!error_) error_ = ScanError{pos_, what};
    return false;
  }
  std::optional<ScanError> error() const { return error_; }

  // Not validating: skips the value at the cursor in text that already passed validation.
  void skip_validated();

 private:
  bool number();
  bool literal(std::string_view word);
  template <class OnItem>
  bool container(int depth, char close, OnItem&& on_item);

  std::string_view text_;
  std::size_t pos_ = 0;
  std::optional<ScanError> error_;
};

// Validates `text` as exactly one JSON value (surrounding whitespace allowed). When the value is
// an object, calls on_member(key_raw, value) for each top-level member in order, key_raw being
// the key's text between the quotes (escapes not decoded). Returns the error, if any.
template <class OnMember>
std::optional<ScanError> scan(std::string_view text, OnMember&& on_member);

// Validates without reporting members.
std::optional<ScanError> validate(std::string_view text);

// Iterates an already validated array or object without re-validating it. An on_member that
// returns bool stops the walk by returning false.
template <class OnElement>
void for_each_element(std::string_view array_raw, OnElement&& on_element);
template <class OnMember>
void for_each_member(std::string_view object_raw, OnMember&& on_member);

// Decodes a string value's raw text (with quotes) or a key's raw text (without): escapes and
// \u sequences, surrogate pairs included. The input must have passed validation.
std::string unescape(std::string_view raw);
// True when `key_raw` (as passed to on_member) denotes `name`, escapes considered. Inline: every
// member of every scanned object goes through it.
bool key_equals_escaped(std::string_view key_raw, std::string_view name);
inline bool key_equals(std::string_view key_raw, std::string_view name) {
  // An escaped spelling is always longer than what it decodes to, and its first byte is the
  // name's first unless it starts an escape: most other keys are told apart without a search.
  if (key_raw.size() <= name.size()) return key_raw == name;
  if (name.empty() || (key_raw[0] != name[0] && key_raw[0] != '\\')) return false;
  return key_equals_escaped(key_raw, name);
}
// Appends `text` as a quoted JSON string.
void append_quoted(std::string& out, std::string_view text);
// Writes `text` as a quoted JSON string at `out`, which has room for quoted_size_bound(size)
// bytes, and returns the end of what it wrote. For writers that reserve once for many values.
char* write_quoted(char* out, std::string_view text);
// Six bytes per input byte at most (a control character becomes \u00XX), plus the quotes.
constexpr std::size_t quoted_size_bound(std::size_t size) {
  return 6 * size + 2;
}

}  // namespace switchyard::api::json

#include "switchyard/api/json_impl.hpp"
