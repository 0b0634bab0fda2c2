#include "switchyard/telemetry/span.hpp"

#include <charconv>
#include <cmath>
#include <type_traits>

#include "switchyard/api/json.hpp"

namespace switchyard::telemetry {

namespace {

template <class Integer>
void append_integer(std::string& out, Integer value) {
  char text[24];
  out.append(text, std::to_chars(text, text + sizeof text, value).ptr);
}

// A 64-bit integer as the protobuf JSON mapping writes it: a decimal string (JavaScript numbers
// lose precision past 2^53).
template <class Integer>
void append_integer_string(std::string& out, Integer value) {
  out += '"';
  append_integer(out, value);
  out += '"';
}

void append_double(std::string& out, double value) {
  // JSON has no NaN or infinities; the protobuf mapping spells them as strings.
  if (std::isnan(value)) {
    out += "\"NaN\"";
  } else if (std::isinf(value)) {
    out += value > 0 ? "\"Infinity\"" : "\"-Infinity\"";
  } else {
    char text[32];  // shortest round-trip form: valid JSON ("1", "0.25", "1e+100")
    out.append(text, std::to_chars(text, text + sizeof text, value).ptr);
  }
}

void append_hex_id(std::string& out, const auto& id) {
  constexpr std::size_t size = std::remove_cvref_t<decltype(id)>::kHexSize;
  out += '"';
  const std::size_t at = out.size();
  out.resize(at + size);
  id.to_hex(out.data() + at);
  out += '"';
}

void append_any_value(std::string& out, std::string_view value) {
  out += "{\"stringValue\":";
  api::json::append_quoted(out, value);
  out += '}';
}
void append_any_value(std::string& out, std::int64_t value) {
  out += "{\"intValue\":";
  append_integer_string(out, value);
  out += '}';
}
void append_any_value(std::string& out, double value) {
  out += "{\"doubleValue\":";
  append_double(out, value);
  out += '}';
}
void append_any_value(std::string& out, bool value) {
  out += value ? "{\"boolValue\":true}" : "{\"boolValue\":false}";
}

void append_string_attribute(std::string& out, std::string_view key, std::string_view value) {
  out += "{\"key\":";
  api::json::append_quoted(out, key);
  out += ",\"value\":{\"stringValue\":";
  api::json::append_quoted(out, value);
  out += "}}";
}

}  // namespace

SpanWriter::SpanWriter(std::string& out, const TraceId& trace, const SpanId& id,
                       const SpanId& parent, std::initializer_list<std::string_view> name,
                       SpanKind kind, std::uint64_t start_unix_ns, std::uint64_t end_unix_ns)
    : out_(out) {
  out += "{\"traceId\":";
  append_hex_id(out, trace);
  out += ",\"spanId\":";
  append_hex_id(out, id);
  if (!parent.is_zero()) {
    out += ",\"parentSpanId\":";
    append_hex_id(out, parent);
  }
  out += ",\"name\":\"";
  bool first = true;
  for (const std::string_view part : name) {
    if (!first) out += ' ';
    first = false;
    // Escaped as a JSON string, without its quotes: the parts make one string.
    const std::size_t at = out.size();
    api::json::append_quoted(out, part);
    out.erase(at, 1);
    out.pop_back();
  }
  out += "\",\"kind\":";
  append_integer(out, static_cast<int>(kind));
  out += ",\"startTimeUnixNano\":";
  append_integer_string(out, start_unix_ns);
  out += ",\"endTimeUnixNano\":";
  append_integer_string(out, end_unix_ns);
  out += ",\"attributes\":[";
}

void SpanWriter::key(std::string_view key) {
  out_ += first_ ? "{\"key\":" : ",{\"key\":";
  first_ = false;
  out_ += '"';
  out_ += key;
  out_ += '"';
  out_ += ",\"value\":";
}

void SpanWriter::attr(std::string_view k, std::string_view value) {
  key(k);
  append_any_value(out_, value);
  out_ += '}';
}
void SpanWriter::attr(std::string_view k, double value) {
  key(k);
  append_any_value(out_, value);
  out_ += '}';
}
void SpanWriter::attr(std::string_view k, bool value) {
  key(k);
  append_any_value(out_, value);
  out_ += '}';
}
void SpanWriter::attr_int(std::string_view k, std::int64_t value) {
  key(k);
  append_any_value(out_, value);
  out_ += '}';
}

void SpanWriter::end(bool error, std::string_view message) {
  // Status codes: 0 unset, 1 ok, 2 error. The gateway always knows how a request ended.
  if (error) {
    out_ += "],\"status\":{\"code\":2";
    if (!message.empty()) {
      out_ += ",\"message\":";
      api::json::append_quoted(out_, message);
    }
    out_ += "}}";
  } else {
    out_ += "],\"status\":{\"code\":1}}";
  }
}

std::string otlp_export_prefix(std::string_view service_name, std::string_view service_version) {
  std::string out;
  out += "{\"resourceSpans\":[{\"resource\":{\"attributes\":[";
  append_string_attribute(out, "service.name", service_name);
  if (!service_version.empty()) {
    out += ',';
    append_string_attribute(out, "service.version", service_version);
  }
  out += "]},\"scopeSpans\":[{\"scope\":{\"name\":\"switchyard\"";
  if (!service_version.empty()) {
    out += ",\"version\":";
    api::json::append_quoted(out, service_version);
  }
  out += "},\"spans\":[";
  return out;
}

}  // namespace switchyard::telemetry
