// Template part of json.hpp; include json.hpp, not this.
#pragma once

namespace switchyard::api::json::detail {

// Cursor over the text. The grammar lives in json.cpp; the templates below only walk the
// top-level object and hand members to the caller.
class Cursor {
 public:
  explicit Cursor(std::string_view text) : text_(text) {}

  void skip_ws();
  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  bool consume(char c);
  std::size_t pos() const { return pos_; }

  // Parse one value/string at the cursor, validating it; false (and error()) on failure.
  bool value(int depth, Value* out);
  bool string(std::string_view* contents);

  ScanError fail(const char* what) {
    if (!error_) error_ = ScanError{pos_, what};
    return *error_;
  }
  std::optional<ScanError> error() const { return error_; }

  // Non-validating: skip the value at the cursor in text that already passed validation.
  void skip_validated();

 private:
  bool number();
  bool literal(std::string_view word);
  bool container(int depth, char close);

  std::string_view text_;
  std::size_t pos_ = 0;
  std::optional<ScanError> error_;
};

// The type of a validated value, from its first character.
inline Type type_of(char first) {
  switch (first) {
    case '{': return Type::object;
    case '[': return Type::array;
    case '"': return Type::string;
    case 'n': return Type::null;
    case 't':
    case 'f': return Type::boolean;
    default: return Type::number;
  }
}

}  // namespace switchyard::api::json::detail

namespace switchyard::api::json {

template <class OnMember>
std::optional<ScanError> scan(std::string_view text, OnMember&& on_member) {
  detail::Cursor c(text);
  c.skip_ws();
  if (c.peek() != '{') {
    Value ignored;
    if (!c.value(0, &ignored)) return c.error();
  } else {
    c.consume('{');
    c.skip_ws();
    if (!c.consume('}')) {
      for (;;) {
        c.skip_ws();
        std::string_view key;
        if (!c.string(&key)) return c.error();
        c.skip_ws();
        if (!c.consume(':')) return c.fail("expected ':' after an object key");
        c.skip_ws();
        Value v;
        if (!c.value(1, &v)) return c.error();
        on_member(key, v);
        c.skip_ws();
        if (c.consume(',')) continue;
        if (c.consume('}')) break;
        return c.fail("expected ',' or '}' in an object");
      }
    }
  }
  c.skip_ws();
  if (!c.at_end()) return c.fail("unexpected text after the JSON value");
  return std::nullopt;
}

template <class OnElement>
void for_each_element(std::string_view array_raw, OnElement&& on_element) {
  detail::Cursor c(array_raw);
  c.consume('[');
  c.skip_ws();
  if (c.consume(']')) return;
  for (;;) {
    c.skip_ws();
    const std::size_t begin = c.pos();
    const char first = c.peek();
    c.skip_validated();
    const auto raw = array_raw.substr(begin, c.pos() - begin);
    on_element(Value{detail::type_of(first), raw});
    c.skip_ws();
    if (!c.consume(',')) return;
  }
}

template <class OnMember>
void for_each_member(std::string_view object_raw, OnMember&& on_member) {
  detail::Cursor c(object_raw);
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
    const std::size_t begin = c.pos();
    const char first = c.peek();
    c.skip_validated();
    const auto raw = object_raw.substr(begin, c.pos() - begin);
    on_member(key, Value{detail::type_of(first), raw});
    c.skip_ws();
    if (!c.consume(',')) return;
  }
}

}  // namespace switchyard::api::json
