// Reads yaml-cpp nodes into typed values for the config loader. Every problem becomes a
// Diagnostic at the offending node and reading goes on, so one run of --check-config lists
// everything that is wrong with a file. Internal to config/: yaml-cpp stays out of include/.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/config/config.hpp"

namespace switchyard::config {

// 1-based, as printed.
struct Position {
  int line = 1;
  int column = 1;
};

// yaml-cpp marks are 0-based; a node without a mark is reported at the top of the file.
Position position_of(const YAML::Mark& mark);

// A value as shown in messages: in single quotes, long ones cut.
std::string quote(std::string_view text);
// A duration as shown in messages about a value the file did not set here: "250ms", "8s".
std::string show_duration(Millis duration);

// Stores a value that was read without problems; a field whose value had one keeps its default.
template <typename T, typename U>
void assign(T& field, const std::optional<U>& value) {
  if (value) field = static_cast<T>(*value);
}

// Whether zero is an acceptable duration or size: it is not for limits where zero would fail
// every request.
enum class Zero { allowed, rejected };

// One `key: value` of a mapping.
struct Entry {
  std::string key;
  std::string path;  // names the value in messages: "providers.openai.base_url"
  YAML::Node key_node;
  YAML::Node value;

  Position key_position() const { return position_of(key_node.Mark()); }
  // Problems with a value are reported at the value, except an empty one: yaml-cpp marks a null
  // value where the next token starts, usually on the following line.
  Position value_position() const;
};

// One element of a list.
struct Item {
  std::string path;  // "routes.default.targets[1]"
  YAML::Node node;
  Position position;
};

// A mapping whose keys were checked: each known key once, in file order.
struct Section {
  std::string path;   // "" at the top level
  Position position;  // where a missing required key is reported
  std::vector<Entry> entries;

  const Entry* find(std::string_view key) const;
};

class NodeReader {
 public:
  NodeReader(std::string file, const EnvLookup& env)
      : file_(std::move(file)), source_(file_), env_(env) {}

  void error(Position where, std::string message);
  // What later diagnostics name as their file: the config file, or where an override came from
  // ("redis:routes.fast"), whose positions are within its own text.
  const std::string& source() const { return source_; }
  void set_source(std::string source) { source_ = std::move(source); }
  void reset_source() { source_ = file_; }
  bool has_errors() const { return !diagnostics_.empty(); }
  // Sorted by position; reading order is schema order, which users do not see.
  std::vector<Diagnostic> take_diagnostics();

  // The document root, which must be a mapping with keys from `keys`. An empty document is an
  // empty mapping.
  std::optional<Section> root(const YAML::Node& document, std::span<const std::string_view> keys);
  // The value of `entry` as a mapping with keys from `keys`, or with any non-empty names when
  // `keys` is empty (the maps of providers, models and routes). An empty value is an empty mapping.
  std::optional<Section> section(const Entry& entry, std::span<const std::string_view> keys);
  // Reports "path: missing required key 'key'" at the section and returns false when absent.
  bool require(const Section& section, std::string_view key);

  // Scalars, after ${NAME} substitution. `secret` values are never quoted in messages.
  std::optional<std::string> text(const Entry& entry, bool secret = false);
  std::optional<std::string> text(const Item& item);
  std::optional<bool> boolean(const Entry& entry);
  // One of `options`, returned as its index: "expected one of a, b, got 'c'" otherwise.
  std::optional<std::size_t> choice(const Entry& entry, std::span<const std::string_view> options);
  std::optional<std::uint64_t> integer(const Entry& entry, std::uint64_t min, std::uint64_t max);
  std::optional<double> non_negative_number(const Entry& entry);
  // A share: a number from 0 to 1, or above 0 and at most 1 when zero is rejected.
  std::optional<double> fraction(const Entry& entry, Zero zero);
  std::optional<Millis> duration(const Entry& entry, Zero zero);
  std::optional<std::size_t> size(const Entry& entry, Zero zero);
  // A YAML sequence; an empty value is an empty list. `what` describes the expected list in
  // messages ("a list of model aliases").
  std::optional<std::vector<Item>> list(const Entry& entry, std::string_view what);
  // A list of strings; the items that are not are reported and left out.
  std::vector<std::string> strings(const Entry& entry, std::string_view what);

 private:
  std::optional<Section> mapping(const YAML::Node& node, std::string path, Position position,
                                 std::span<const std::string_view> keys);
  std::optional<std::string> scalar(const YAML::Node& node, const std::string& path, Position where,
                                    std::string_view expected, bool secret);

  std::string file_;
  std::string source_;
  const EnvLookup& env_;
  std::vector<Diagnostic> diagnostics_;
};

}  // namespace switchyard::config
