// A worker's side of tracing: a finished request's record becomes its spans — the request (server
// span), its phases (routing, cache, Redis calls) and each upstream attempt (client spans, whose
// ids the upstreams were sent in traceparent) — encoded on the worker and handed to the exporter
// a tick's worth at a time, so the request path never touches the exporter's queue.
#pragma once

#include <cstddef>
#include <string>

#include "switchyard/telemetry/request_log.hpp"

namespace switchyard::telemetry {

class SpanExporter;

// Appends the record's spans as OTLP/JSON span objects joined with ',' (after a ',' when `out`
// is not empty); returns how many.
std::size_t append_request_spans(std::string& out, const RequestRecord& r);

class Tracer {
 public:
  explicit Tracer(SpanExporter& exporter) : exporter_(exporter) {}
  // When the request's trace is exported (r.traced).
  void record(const RequestRecord& r);
  // Hands what was recorded since the last flush to the exporter (the worker's tick).
  void flush();

 private:
  SpanExporter& exporter_;
  std::string spans_;
  std::size_t count_ = 0;
};

}  // namespace switchyard::telemetry
