#include "node_reader.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <tuple>

#include "env_substitution.hpp"

namespace switchyard::config {
namespace {

// Long values are cut in messages so one line per problem stays one line.
constexpr std::size_t kMaxQuoted = 60;

std::string describe(const YAML::Node& node, bool secret) {
  switch (node.Type()) {
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Scalar:
      return secret ? std::string("a string") : quote(node.Scalar());
    default:
      return "an empty value";
  }
}

std::string where_in(std::string_view path) {
  return path.empty() ? std::string("at the top level") : "in " + std::string(path);
}

std::string join(std::span<const std::string_view> names) {
  std::string out;
  for (std::string_view name : names) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

std::string integer_expectation(std::uint64_t min, std::uint64_t max) {
  if (max == std::numeric_limits<std::uint64_t>::max()) {
    return "an integer >= " + std::to_string(min);
  }
  return "an integer " + std::to_string(min) + ".." + std::to_string(max);
}

}  // namespace

std::string quote(std::string_view text) {
  // Appended piece by piece: `"'" + std::string(text)` trips GCC 12's -Wrestrict false positive
  // (GCC bug 105329) at -O3.
  const bool cut = text.size() > kMaxQuoted;
  std::string out;
  out.reserve(kMaxQuoted + 5);
  out += '\'';
  out += text.substr(0, kMaxQuoted);
  out += cut ? "...'" : "'";
  return out;
}

std::string show_duration(Millis duration) {
  const auto count = duration.count();
  if (count != 0 && count % 1000 == 0) return std::to_string(count / 1000) + "s";
  return std::to_string(count) + "ms";
}

Position position_of(const YAML::Mark& mark) {
  if (mark.is_null()) return {};
  return {mark.line + 1, mark.column + 1};
}

Position Entry::value_position() const {
  return value.IsNull() ? key_position() : position_of(value.Mark());
}

const Entry* Section::find(std::string_view key) const {
  const auto it = std::find_if(entries.begin(), entries.end(),
                               [key](const Entry& entry) { return entry.key == key; });
  return it == entries.end() ? nullptr : &*it;
}

void NodeReader::error(Position where, std::string message) {
  diagnostics_.push_back(Diagnostic{source_, where.line, where.column, std::move(message)});
}

std::vector<Diagnostic> NodeReader::take_diagnostics() {
  std::stable_sort(diagnostics_.begin(), diagnostics_.end(),
                   [this](const Diagnostic& a, const Diagnostic& b) {
                     // The file first, then each override.
                     const bool a_other = a.file != file_, b_other = b.file != file_;
                     return std::tie(a_other, a.file, a.line, a.column) <
                            std::tie(b_other, b.file, b.line, b.column);
                   });
  return std::move(diagnostics_);
}

std::optional<Section> NodeReader::root(const YAML::Node& document,
                                        std::span<const std::string_view> keys) {
  if (document.IsDefined() && !document.IsNull() && !document.IsMap()) {
    error(position_of(document.Mark()),
          "expected a mapping at the top level, got " + describe(document, false));
    return std::nullopt;
  }
  return mapping(document, "", Position{}, keys);
}

std::optional<Section> NodeReader::section(const Entry& entry,
                                           std::span<const std::string_view> keys) {
  if (!entry.value.IsNull() && !entry.value.IsMap()) {
    error(entry.value_position(),
          entry.path + ": expected a mapping, got " + describe(entry.value, false));
    return std::nullopt;
  }
  return mapping(entry.value, entry.path, entry.value_position(), keys);
}

std::optional<Section> NodeReader::mapping(const YAML::Node& node, std::string path,
                                           Position position,
                                           std::span<const std::string_view> keys) {
  Section section{std::move(path), position, {}};
  if (!node.IsDefined() || node.IsNull()) return section;

  // yaml-cpp 0.7 keeps every pair of a mapping, duplicates included, when a map node is iterated
  // (operator[] would silently return the first). So duplicates are found here, by name.
  std::map<std::string, Position, std::less<>> seen;
  for (auto it = node.begin(); it != node.end(); ++it) {
    // Copies: the iterator's `->` yields a temporary pair proxy, so references would dangle.
    const YAML::Node key = it->first;
    const YAML::Node value = it->second;
    const Position key_position = position_of(key.Mark());
    if (!key.IsScalar()) {
      error(key_position, "expected a plain name as key " + where_in(section.path) + ", got " +
                              describe(key, false));
      continue;
    }
    const std::string& name = key.Scalar();
    if (name.empty()) {
      error(key_position, "empty key " + where_in(section.path));
      continue;
    }
    if (const auto first = seen.find(name); first != seen.end()) {
      error(key_position, "duplicate key " + quote(name) + " " + where_in(section.path) +
                              " (first at line " + std::to_string(first->second.line) + ")");
      continue;
    }
    seen.emplace(name, key_position);
    if (!keys.empty() && std::find(keys.begin(), keys.end(), name) == keys.end()) {
      error(key_position, "unknown key " + quote(name) + " " + where_in(section.path) +
                              " (expected one of: " + join(keys) + ")");
      continue;
    }
    std::string entry_path = section.path.empty() ? name : section.path + "." + name;
    section.entries.push_back(Entry{name, std::move(entry_path), key, value});
  }
  return section;
}

bool NodeReader::require(const Section& section, std::string_view key) {
  if (section.find(key)) return true;
  error(section.position, section.path + ": missing required key '" + std::string(key) + "'");
  return false;
}

std::optional<std::string> NodeReader::scalar(const YAML::Node& node, const std::string& path,
                                              Position where, std::string_view expected,
                                              bool secret) {
  if (!node.IsScalar()) {
    error(where, path + ": expected " + std::string(expected) + ", got " + describe(node, secret));
    return std::nullopt;
  }
  Substituted substituted = substitute_env(node.Scalar(), env_, secret);
  for (std::string& message : substituted.errors) error(where, path + ": " + message);
  if (!substituted.errors.empty()) return std::nullopt;
  return std::move(substituted.text);
}

std::optional<std::string> NodeReader::text(const Entry& entry, bool secret) {
  return scalar(entry.value, entry.path, entry.value_position(), "a string", secret);
}

std::optional<std::string> NodeReader::text(const Item& item) {
  return scalar(item.node, item.path, item.position, "a string", false);
}

std::optional<bool> NodeReader::boolean(const Entry& entry) {
  constexpr std::string_view kExpected = "true or false";
  const auto value = scalar(entry.value, entry.path, entry.value_position(), kExpected, false);
  if (!value) return std::nullopt;
  // The YAML 1.2 core schema: yaml-cpp would also take YAML 1.1's yes/no/on/off, which surprise
  // people ("NO" as a country code), so they are rejected.
  if (*value == "true" || *value == "True" || *value == "TRUE") return true;
  if (*value == "false" || *value == "False" || *value == "FALSE") return false;
  error(entry.value_position(),
        entry.path + ": expected " + std::string(kExpected) + ", got " + quote(*value));
  return std::nullopt;
}

std::optional<std::size_t> NodeReader::choice(const Entry& entry,
                                              std::span<const std::string_view> options) {
  std::string expected = "one of ";
  for (std::size_t i = 0; i < options.size(); ++i) {
    if (i > 0) expected += ", ";
    expected += options[i];
  }
  const auto value = scalar(entry.value, entry.path, entry.value_position(), expected, false);
  if (!value) return std::nullopt;
  for (std::size_t i = 0; i < options.size(); ++i)
    if (*value == options[i]) return i;
  error(entry.value_position(), entry.path + ": expected " + expected + ", got " + quote(*value));
  return std::nullopt;
}

std::optional<std::uint64_t> NodeReader::integer(const Entry& entry, std::uint64_t min,
                                                 std::uint64_t max) {
  const std::string expected = integer_expectation(min, max);
  const auto value = scalar(entry.value, entry.path, entry.value_position(), expected, false);
  if (!value) return std::nullopt;
  std::uint64_t number = 0;
  const char* end = value->data() + value->size();
  const auto [ptr, ec] = std::from_chars(value->data(), end, number);
  if (value->empty() || ec != std::errc{} || ptr != end || number < min || number > max) {
    error(entry.value_position(), entry.path + ": expected " + expected + ", got " + quote(*value));
    return std::nullopt;
  }
  return number;
}

std::optional<double> NodeReader::non_negative_number(const Entry& entry) {
  constexpr std::string_view kExpected = "a number >= 0";
  const auto value = scalar(entry.value, entry.path, entry.value_position(), kExpected, false);
  if (!value) return std::nullopt;
  double number = 0;
  const char* end = value->data() + value->size();
  const auto [ptr, ec] = std::from_chars(value->data(), end, number);
  if (value->empty() || ec != std::errc{} || ptr != end || !std::isfinite(number) || number < 0) {
    error(entry.value_position(),
          entry.path + ": expected " + std::string(kExpected) + ", got " + quote(*value));
    return std::nullopt;
  }
  return number + 0.0;  // "-0" passes the check above; store it as +0
}

std::optional<double> NodeReader::fraction(const Entry& entry, Zero zero) {
  const std::string_view expected =
      zero == Zero::allowed ? "a number from 0 to 1" : "a number greater than 0 and at most 1";
  const auto value = scalar(entry.value, entry.path, entry.value_position(), expected, false);
  if (!value) return std::nullopt;
  double number = 0;
  const char* end = value->data() + value->size();
  const auto [ptr, ec] = std::from_chars(value->data(), end, number);
  const bool in_range =
      zero == Zero::allowed ? number >= 0 && number <= 1 : number > 0 && number <= 1;
  if (value->empty() || ec != std::errc{} || ptr != end || !std::isfinite(number) || !in_range) {
    error(entry.value_position(),
          entry.path + ": expected " + std::string(expected) + ", got " + quote(*value));
    return std::nullopt;
  }
  return number + 0.0;  // "-0" passes as 0; store it as +0
}

std::optional<Millis> NodeReader::duration(const Entry& entry, Zero zero) {
  constexpr std::string_view kExpected = "a duration like 250ms, 2s, 1m or 1h";
  const auto value = scalar(entry.value, entry.path, entry.value_position(), kExpected, false);
  if (!value) return std::nullopt;
  const auto parsed = parse_duration(*value);
  if (!parsed) {
    error(entry.value_position(),
          entry.path + ": expected " + std::string(kExpected) + ", got " + quote(*value));
    return std::nullopt;
  }
  if (zero == Zero::rejected && parsed->count() == 0) {
    error(entry.value_position(),
          entry.path + ": expected a duration greater than 0, got " + quote(*value));
    return std::nullopt;
  }
  return parsed;
}

std::optional<std::size_t> NodeReader::size(const Entry& entry, Zero zero) {
  constexpr std::string_view kExpected = "a size like 8MiB, 16KiB or 512 (bytes)";
  const auto value = scalar(entry.value, entry.path, entry.value_position(), kExpected, false);
  if (!value) return std::nullopt;
  const auto parsed = parse_size(*value);
  if (!parsed) {
    error(entry.value_position(),
          entry.path + ": expected " + std::string(kExpected) + ", got " + quote(*value));
    return std::nullopt;
  }
  if (zero == Zero::rejected && *parsed == 0) {
    error(entry.value_position(),
          entry.path + ": expected a size greater than 0, got " + quote(*value));
    return std::nullopt;
  }
  return parsed;
}

std::vector<std::string> NodeReader::strings(const Entry& entry, std::string_view what) {
  std::vector<std::string> out;
  if (const auto items = list(entry, what)) {
    for (const Item& item : *items) {
      if (auto value = text(item)) out.push_back(std::move(*value));
    }
  }
  return out;
}

std::optional<std::vector<Item>> NodeReader::list(const Entry& entry, std::string_view what) {
  std::vector<Item> items;
  if (entry.value.IsNull()) return items;
  if (!entry.value.IsSequence()) {
    error(entry.value_position(),
          entry.path + ": expected " + std::string(what) + ", got " + describe(entry.value, false));
    return std::nullopt;
  }
  const Position list_position = entry.value_position();
  std::size_t index = 0;
  for (const YAML::Node& node : entry.value) {
    // An empty item's mark is wherever the next token starts; the list itself is a truer place.
    const Position position = node.IsNull() ? list_position : position_of(node.Mark());
    items.push_back(Item{entry.path + "[" + std::to_string(index++) + "]", node, position});
  }
  return items;
}

}  // namespace switchyard::config
