// Spans as OTLP/JSON — the protobuf JSON mapping OTLP/HTTP accepts with Content-Type:
// application/json (https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding). Spans are
// encoded on the thread that finished them, straight from the request's record (Tracer), and
// shipped as text to the SpanExporter, which only adds the envelope.
#pragma once

#include <chrono>
#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "switchyard/telemetry/trace_context.hpp"

namespace switchyard::telemetry {

// OTLP's SpanKind numbers.
enum class SpanKind { internal = 1, server = 2, client = 3 };

// Nanoseconds since the Unix epoch, as OTLP timestamps are.
inline std::uint64_t unix_time_ns(
    std::chrono::system_clock::time_point t = std::chrono::system_clock::now()) {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
}

// Writes one span object straight into `out`: the header at construction, then its attributes
// one by one, then end() — no span object in between, so no allocation per attribute. In
// OTLP/JSON, trace and span ids are lowercase hex (not base64 as in the generic protobuf
// mapping), 64-bit integers (timestamps, intValue) are decimal strings, and enums are numbers.
// Attribute keys are the gateway's own names (semantic conventions), copied unescaped and kept
// unique by the caller. Several spans for one export are joined with ','.
class SpanWriter {
 public:
  // `name` is the parts joined with spaces ("POST", "/v1/chat/completions").
  SpanWriter(std::string& out, const TraceId& trace, const SpanId& id, const SpanId& parent,
             std::initializer_list<std::string_view> name, SpanKind kind,
             std::uint64_t start_unix_ns, std::uint64_t end_unix_ns);
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
  bool first_ = true;
};

// A complete ExportTraceServiceRequest body is the prefix — one resource (service.name,
// service.version) with one scope ("switchyard") — then span objects joined with ',', then the
// suffix. Sent as a gather list, the spans are never copied into a body.
std::string otlp_export_prefix(std::string_view service_name, std::string_view service_version);
inline constexpr std::string_view kOtlpExportSuffix = "]}]}]}";

}  // namespace switchyard::telemetry
