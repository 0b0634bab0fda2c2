// A Messages request body read for its translation (messages_to_chat.cpp): one validating pass
// notes where each string, object and array ends, so that the translation walks the body again
// without looking at what it skips and copies what it keeps as source text; and the compact JSON
// text of a tool's input, written as nlohmann_json's dump wrote it, without a DOM. Private to
// api/.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "switchyard/api/error.hpp"
#include "switchyard/api/json.hpp"
#include "switchyard/result.hpp"

namespace switchyard::api::messages {

using Check = Result<void, ApiError>;
using json::Type;

// Top-level members translated or deliberately ignored; any other says something chat cannot.
constexpr std::array<std::string_view, 16> kKnownParameters = {
    "model",    "max_tokens",    "system",        "messages",    "stop_sequences", "temperature",
    "top_p",    "top_k",         "metadata",      "stream",      "tools",          "tool_choice",
    "thinking", "output_format", "output_config", "service_tier"};

// Appends the parts in order: JSON written piece by piece, without a temporary per piece.
inline void append_one(std::string& out, char c) {
  out += c;
}
inline void append_one(std::string& out, std::string_view text) {
  out.append(text.data(), text.size());
}
template <class... Parts>
void append(std::string& out, const Parts&... parts) {
  (append_one(out, parts), ...);
}

// A value read from the body. Absent, its raw text is empty; null, "null". Anthropic takes null
// for an optional member as its absence, but a required one must be there, null or not.
struct Field : json::Value {
  std::uint32_t entry = 0;  // its place in Body's table of ends, when it has one

  bool present() const { return !raw.empty(); }
  bool given() const { return type != Type::null; }
  // A string's raw text between its quotes, escapes kept.
  std::string_view body() const { return {raw.data() + 1, raw.size() - 2}; }
  bool says(std::string_view word) const {
    return type == Type::string && json::key_equals(body(), word);
  }
};

// How the DOM read a number, which decides what is an integer: one written without fraction or
// exponent that fits 64 bits (signed when negative); anything else is a double.
enum class Number { non_negative, negative, floating };
Number number_kind(std::string_view raw);
// A number as the DOM's dump wrote it: an integer as written, a double in its shortest form.
void append_number(std::string& out, std::string_view raw);

// Two keys' raw texts that name the same member.
bool same_key(std::string_view a, std::string_view b);
// A number written as an integer that fits 64 bits, as the DOM read integers.
bool is_integer(const Field& field);
// A number the DOM parser refused (beyond a double's range); an unpaired surrogate escape.
bool overflows(std::string_view number);
bool has_lone_surrogate(std::string_view text);
// Appends validated JSON text as a JSON string holding its compact text, exactly as
// nlohmann_json's compact dump wrote it (a tool call's `arguments`). `keys` and `objects` are
// scratch, kept by the caller across calls.
void append_compact_string(std::string& out, std::string_view text,
                           std::vector<std::string_view>& keys, std::vector<std::size_t>& objects);

// The request body, read in one pass that validates it as json::scan does (the same cursor, so
// the same errors) and notes what reading it again needs: the top-level members (of a key given
// twice the last value, as the DOM kept it), where each string, object and array ends, and
// whether the DOM parser refused the body though our scanner does not (a number beyond a
// double's range, a lone surrogate escape).
class Body {
 public:
  std::array<Field, kKnownParameters.size()> known;
  std::vector<std::pair<std::string_view, Field>> others;  // in order, to name what is left out
  bool refused_by_dom = false;

  explicit Body(std::string_view body) : text_(body), cursor_(body) {
    grow(body.size() / 8 + 64);  // enough for all but the densest bodies
  }

  std::optional<json::ScanError> read() {
    cursor_.skip_ws();
    bool ok = cursor_.peek() != '{' ? value(0) : cursor_.object(0, [&](std::string_view key) {
      std::size_t at = cursor_.pos();
      auto entry = static_cast<std::uint32_t>(used_);
      if (!value(1)) return false;
      take(key, value_at(at, entry));
      return true;
    });
    cursor_.skip_ws();
    if (ok && !cursor_.at_end()) ok = cursor_.fail("unexpected text after the JSON value");
    if (!ok) return cursor_.error();
    refused_by_dom = refused_by_dom || has_lone_surrogate(text_);
    return std::nullopt;
  }

  const Field& operator[](std::string_view name) const {
    const auto* at = std::find(kKnownParameters.begin(), kKnownParameters.end(), name);
    return known[static_cast<std::size_t>(at - kKnownParameters.begin())];
  }

  // The named members of an object, in the order named; of a key given twice the last.
  template <class... Names>
  std::array<Field, sizeof...(Names)> members_of(const Field& object, Names... names) const {
    std::array<Field, sizeof...(Names)> fields;
    const std::array<std::string_view, sizeof...(Names)> keys{names...};
    walk(object, [&](std::string_view key, const Field& v) {
      for (std::size_t i = 0; i < keys.size(); ++i) {
        const std::string_view name = keys[i];  // told apart without memcmp() mostly
        if (key.size() == name.size() && key[0] == name[0] && key.back() == name.back() &&
            key == name) {
          fields[i] = v;
          return;
        }
      }
      if (key.find('\\') == key.npos) return;  // an escaped key is rare: this is not one
      for (std::size_t i = 0; i < keys.size(); ++i)
        if (json::key_equals(key, keys[i])) fields[i] = v;
    });
    return fields;
  }

  // Calls visit(element, index) for each element of an array until one finds a fault.
  template <class Visit>
  Check each(const Field& array, Visit&& visit) const {
    Check result;
    std::size_t i = 0;
    walk(array, [&](std::string_view, const Field& v) {
      if (result) result = visit(v, i++);
    });
    return result;
  }

 private:
  // Where a string (a key too), an object or an array ends, and the entry after its own and its
  // members': entries are in the order the values begin, so that a walk through an object or an
  // array finds each of its values' ends in the next entry, without a search.
  struct Entry {
    std::uint32_t end, next;
  };
  // Adds an entry for what ends at `end` and holds no other; returns its place.
  std::size_t add_entry(std::size_t end) {
    if (used_ == capacity_) grow(2 * capacity_);
    entries_[used_] = {static_cast<std::uint32_t>(end), static_cast<std::uint32_t>(used_ + 1)};
    return used_++;
  }

  // json::Cursor::value(), taking the notes.
  bool value(int depth) {
    const char first = cursor_.peek();
    if (first == '"') return string();
    if (first != '{' && first != '[') {
      json::Value v;
      const bool ok = cursor_.value(depth, &v);
      refused_by_dom = refused_by_dom || (ok && v.type == Type::number && overflows(v.raw));
      return ok;
    }
    // Strings, the most of any body, are read here rather than in a call of their own.
    const auto member = [&] { return cursor_.peek() == '"' ? string() : value(depth + 1); };
    const std::size_t entry = add_entry(0);
    const bool ok = first == '{'
                        ? cursor_.object(depth,
                                         [&](std::string_view key) {
                                           add_entry(key.data() + key.size() + 1 - text_.data());
                                           return member();
                                         })
                        : cursor_.array(depth, member);
    entries_[entry] = {static_cast<std::uint32_t>(cursor_.pos()),
                       static_cast<std::uint32_t>(used_)};
    return ok;
  }

  bool string() {
    std::string_view contents;
    if (!cursor_.string(&contents)) return false;
    add_entry(cursor_.pos());
    return true;
  }

  void take(std::string_view key, const Field& v) {
    for (std::size_t i = 0; i < kKnownParameters.size(); ++i) {
      if (json::key_equals(key, kKnownParameters[i])) {
        known[i] = v;
        return;
      }
    }
    others.emplace_back(key, v);
  }

  void grow(std::size_t capacity) {
    auto grown = std::make_unique_for_overwrite<Entry[]>(capacity);
    std::copy_n(entries_.get(), used_, grown.get());
    entries_ = std::move(grown);
    capacity_ = capacity;
  }

  std::size_t skip_ws(std::size_t at) const {
    while (static_cast<unsigned char>(text_[at]) <= ' ' && json::Cursor::is_ws(text_[at])) ++at;
    return at;
  }

  // The value at `at` in the validated text, whose entry (if it has one) is `entry`; moves both
  // past it.
  Field value_at(std::size_t& at, std::uint32_t& entry) const {
    Field v;
    const std::size_t begin = at;
    const char first = text_[at];
    if (first == '{' || first == '[' || first == '"') {
      v.type = first == '{' ? Type::object : first == '[' ? Type::array : Type::string;
      v.entry = entry;
      at = entries_[entry].end;
      entry = entries_[entry].next;
    } else {
      v.type = first == 'n'                   ? Type::null
               : first == 't' || first == 'f' ? Type::boolean
                                              : Type::number;
      while (at < text_.size() && std::string_view(",]} \t\r\n").find(text_[at]) == text_.npos)
        ++at;
    }
    v.raw = {text_.data() + begin, at - begin};
    return v;
  }

  // Calls f(key, value) for each member of an object, or each element of an array (the key
  // empty), in validated text: nothing is looked at twice, nor checked.
  template <class F>
  void walk(const Field& container, F&& f) const {
    std::size_t at = skip_ws(static_cast<std::size_t>(container.raw.data() - text_.data()) + 1);
    std::uint32_t next = container.entry + 1;
    while (text_[at] != '}' && text_[at] != ']') {
      std::string_view key;
      if (container.type == Type::object) {
        key = {text_.data() + at + 1, entries_[next].end - at - 2};
        at = skip_ws(skip_ws(entries_[next++].end) + 1);  // past the ':'
      }
      f(key, value_at(at, next));
      at = skip_ws(at);
      if (text_[at] == ',') at = skip_ws(at + 1);
    }
  }

  std::string_view text_;
  json::Cursor cursor_;
  std::unique_ptr<Entry[]> entries_;  // not a vector, which would zero them first
  // Offsets fit 32 bits: server.max_body (8 MB by default) refuses bodies anywhere near 4 GB.
  std::size_t used_ = 0, capacity_ = 0;
};

}  // namespace switchyard::api::messages
