// The Prometheus text exposition format, as the registry and TextWriter write it. Private to
// telemetry/.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "switchyard/telemetry/metrics.hpp"

namespace switchyard::telemetry {

void append_integer(std::string& out, std::int64_t value);
void append_integer(std::string& out, std::uint64_t value);
// NaN, ±Inf, or the shortest decimal that reads back as `value`.
void append_double(std::string& out, double value);
// `# HELP name help` and `# TYPE name type`.
void append_family_header(std::string& out, std::string_view name, std::string_view help,
                          MetricType type);

// A sample line: `name{a="x",b="y"} value`, without braces when there are no labels.
class SampleLine {
 public:
  SampleLine(std::string& out, std::string_view name, std::string_view suffix = {});
  void label(std::string_view name, std::string_view value);
  // Ends the labels; the caller appends the value and then calls end().
  std::string& value();
  void end() { out_ += '\n'; }

 private:
  std::string& out_;
  bool first_ = true;
};

}  // namespace switchyard::telemetry
