// A finished span as the gateway records it (the request's server span, one client span per
// upstream attempt), and its encoding as OTLP/JSON — the protobuf JSON mapping OTLP/HTTP accepts
// with Content-Type: application/json (https://opentelemetry.io/docs/specs/otlp/#json-protobuf-
// encoding). Spans are encoded on the thread that finished them and shipped as text to the
// SpanExporter, which only concatenates.
#pragma once

#include <chrono>
#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "switchyard/telemetry/trace_context.hpp"

namespace switchyard::telemetry {

// OTLP's SpanKind numbers.
enum class SpanKind { internal = 1, server = 2, client = 3 };

using AttributeValue = std::variant<std::string, std::int64_t, double, bool>;

struct Attribute {
  std::string key;
  AttributeValue value;
};

struct Span {
  TraceId trace;
  SpanId id;
  SpanId parent;  // all-zero for a root span
  std::string name;
  SpanKind kind = SpanKind::internal;
  std::uint64_t start_unix_ns = 0;
  std::uint64_t end_unix_ns = 0;
  bool error = false;          // status ERROR, else OK
  std::string status_message;  // sent with an error only (OTLP: the message goes with ERROR)
  std::vector<Attribute> attributes;

  // Sets an attribute, replacing the value of one already set under `key` (OTLP keys are unique
  // within a span).
  void set(std::string_view key, std::string_view value);
  void set(std::string_view key, const char* value) { set(key, std::string_view(value)); }
  void set(std::string_view key, double value);
  void set(std::string_view key, bool value);
  // Any integer (OTLP's intValue is 64-bit signed; larger unsigned values wrap).
  template <std::integral T>
  requires(!std::same_as<T, bool>) void set(std::string_view key, T value) {
    set_int(key, static_cast<std::int64_t>(value));
  }

 private:
  void set_int(std::string_view key, std::int64_t value);
  AttributeValue& slot(std::string_view key);
};

// Nanoseconds since the Unix epoch, as OTLP timestamps are.
inline std::uint64_t unix_time_ns(
    std::chrono::system_clock::time_point t = std::chrono::system_clock::now()) {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
}

// Writes one span object straight into `out`: the header at construction, then its attributes
// one by one, then end(). What the request path uses — a Span with its vector of string
// attributes costs a dozen allocations per span. The caller keeps attribute keys unique.
class SpanWriter {
 public:
  // Attribute keys as given (`plain`: the gateway's own names, which need no escaping — copied
  // whole, the request path's case) or escaped (keys from anywhere).
  enum class Keys { plain, escaped };
  // `name` is the parts joined with spaces ("POST", "/v1/chat/completions").
  SpanWriter(std::string& out, const TraceId& trace, const SpanId& id, const SpanId& parent,
             std::initializer_list<std::string_view> name, SpanKind kind,
             std::uint64_t start_unix_ns, std::uint64_t end_unix_ns, Keys keys = Keys::plain);
  void attr(std::string_view key, std::string_view value);
  void attr(std::string_view key, const char* value) { attr(key, std::string_view(value)); }
  void attr(std::string_view key, double value);
  void attr(std::string_view key, bool value);
  template <std::integral T>
  requires(!std::same_as<T, bool>) void attr(std::string_view key, T value) {
    attr_int(key, static_cast<std::int64_t>(value));
  }
  // Status OK, or ERROR with `message`.
  void end(bool error, std::string_view message = {});

 private:
  void attr_int(std::string_view key, std::int64_t value);
  void key(std::string_view key);

  std::string& out_;
  bool escape_keys_;
  bool first_ = true;
};

// Appends one span object. In OTLP/JSON, trace and span ids are lowercase hex (not base64 as in
// the generic protobuf mapping), 64-bit integers (timestamps, intValue) are decimal strings, and
// enums are numbers. Several spans for one export are joined with ','.
void append_otlp_span(std::string& out, const Span& span);

// The same body in three parts, for sending the spans without joining them: the prefix, the span
// objects joined with ',', the suffix.
std::string otlp_export_prefix(std::string_view service_name, std::string_view service_version);
inline constexpr std::string_view kOtlpExportSuffix = "]}]}]}";

// A complete ExportTraceServiceRequest body: one resource (service.name, service.version) with
// one scope ("switchyard") holding `spans_json`, span objects joined with ','.
std::string otlp_export_body(std::string_view service_name, std::string_view service_version,
                             std::string_view spans_json);

}  // namespace switchyard::telemetry
