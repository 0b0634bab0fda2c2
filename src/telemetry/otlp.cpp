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

void append_any_value(std::string& out, const AttributeValue& value) {
  if (const auto* s = std::get_if<std::string>(&value)) {
    out += "{\"stringValue\":";
    api::json::append_quoted(out, *s);
  } else if (const auto* i = std::get_if<std::int64_t>(&value)) {
    out += "{\"intValue\":";
    append_integer_string(out, *i);
  } else if (const auto* d = std::get_if<double>(&value)) {
    out += "{\"doubleValue\":";
    append_double(out, *d);
  } else {
    out += "{\"boolValue\":";
    out += std::get<bool>(value) ? "true" : "false";
  }
  out += '}';
}

void append_string_attribute(std::string& out, std::string_view key, std::string_view value) {
  out += "{\"key\":";
  api::json::append_quoted(out, key);
  out += ",\"value\":{\"stringValue\":";
  api::json::append_quoted(out, value);
  out += "}}";
}

}  // namespace

AttributeValue& Span::slot(std::string_view key) {
  for (auto& a : attributes)
    if (a.key == key) return a.value;
  return attributes.emplace_back(Attribute{std::string(key), {}}).value;
}

void Span::set(std::string_view key, std::string_view value) {
  slot(key).emplace<std::string>(value);
}
void Span::set(std::string_view key, double value) {
  slot(key) = value;
}
void Span::set(std::string_view key, bool value) {
  slot(key) = value;
}
void Span::set_int(std::string_view key, std::int64_t value) {
  slot(key) = value;
}

void append_otlp_span(std::string& out, const Span& span) {
  out += "{\"traceId\":";
  append_hex_id(out, span.trace);
  out += ",\"spanId\":";
  append_hex_id(out, span.id);
  if (!span.parent.is_zero()) {
    out += ",\"parentSpanId\":";
    append_hex_id(out, span.parent);
  }
  out += ",\"name\":";
  api::json::append_quoted(out, span.name);
  out += ",\"kind\":";
  append_integer(out, static_cast<int>(span.kind));
  out += ",\"startTimeUnixNano\":";
  append_integer_string(out, span.start_unix_ns);
  out += ",\"endTimeUnixNano\":";
  append_integer_string(out, span.end_unix_ns);
  out += ",\"attributes\":[";
  bool first = true;
  for (const auto& a : span.attributes) {
    if (!first) out += ',';
    first = false;
    out += "{\"key\":";
    api::json::append_quoted(out, a.key);
    out += ",\"value\":";
    append_any_value(out, a.value);
    out += '}';
  }
  // Status codes: 0 unset, 1 ok, 2 error. The gateway always knows how a request ended.
  if (span.error) {
    out += "],\"status\":{\"code\":2";
    if (!span.status_message.empty()) {
      out += ",\"message\":";
      api::json::append_quoted(out, span.status_message);
    }
    out += "}}";
  } else {
    out += "],\"status\":{\"code\":1}}";
  }
}

std::string otlp_export_body(std::string_view service_name, std::string_view service_version,
                             std::string_view spans_json) {
  std::string out;
  out.reserve(spans_json.size() + 256);
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
  out += spans_json;
  out += "]}]}]}";
  return out;
}

}  // namespace switchyard::telemetry
