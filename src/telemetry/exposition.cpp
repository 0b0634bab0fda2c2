// The Prometheus text exposition format: numbers, escaping, family headers and sample lines, for
// the registry's families and for TextWriter's hand-written ones.
#include "exposition.hpp"

#include <cassert>
#include <charconv>
#include <cmath>
#include <concepts>

namespace switchyard::telemetry {

namespace {

void append_digits(std::string& out, std::integral auto value) {
  char buffer[24];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, result.ptr);
}

// The text format escapes backslash and newline in HELP, and also the double quote in label
// values.
void append_escaped(std::string& out, std::string_view text, bool quote) {
  for (const char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

std::string_view type_name(MetricType type) {
  switch (type) {
    case MetricType::counter:
      return "counter";
    case MetricType::gauge:
      return "gauge";
    case MetricType::histogram:
      return "histogram";
  }
  return "untyped";
}

}  // namespace

void append_integer(std::string& out, std::int64_t value) {
  append_digits(out, value);
}

void append_integer(std::string& out, std::uint64_t value) {
  append_digits(out, value);
}

void append_double(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
  } else if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
  } else {
    char buffer[32];  // the longest shortest-round-trip double is 24 characters
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    out.append(buffer, result.ptr);
  }
}

void append_family_header(std::string& out, std::string_view name, std::string_view help,
                          MetricType type) {
  out += "# HELP ";
  out += name;
  out += ' ';
  append_escaped(out, help, false);
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type_name(type);
  out += '\n';
}

SampleLine::SampleLine(std::string& out, std::string_view name, std::string_view suffix)
    : out_(out) {
  out_ += name;
  out_ += suffix;
}

void SampleLine::label(std::string_view name, std::string_view value) {
  out_ += first_ ? '{' : ',';
  first_ = false;
  out_ += name;
  out_ += "=\"";
  append_escaped(out_, value, true);
  out_ += '"';
}

std::string& SampleLine::value() {
  if (!first_) out_ += '}';
  out_ += ' ';
  return out_;
}

// ---- TextWriter ----

void TextWriter::family(std::string_view name, std::string_view help, MetricType type) {
  assert(type != MetricType::histogram && "TextWriter writes counters and gauges");
  append_family_header(out_, name, help, type);
  name_ = name;
}

void TextWriter::sample(std::initializer_list<std::pair<std::string_view, std::string_view>> labels,
                        double value) {
  SampleLine line(out_, name_);
  for (const auto& [name, label_value] : labels) line.label(name, label_value);
  append_double(line.value(), value);
  line.end();
}

void TextWriter::sample(std::initializer_list<std::pair<std::string_view, std::string_view>> labels,
                        std::uint64_t value) {
  SampleLine line(out_, name_);
  for (const auto& [name, label_value] : labels) line.label(name, label_value);
  append_integer(line.value(), value);
  line.end();
}

}  // namespace switchyard::telemetry
