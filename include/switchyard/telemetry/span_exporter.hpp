// Ships finished spans to an OpenTelemetry collector over OTLP/HTTP (JSON), off the request
// path: worker threads hand over already-encoded spans with submit(), which only takes a mutex
// for a queue push; one background thread batches them and POSTs them. The queue is bounded:
// when the collector is slow or gone, spans are dropped and counted, never waited for.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace switchyard::telemetry {

struct ExporterSettings {
  // The full URL spans are POSTed to, as in OTEL_EXPORTER_OTLP_TRACES_ENDPOINT:
  // "http://127.0.0.1:4318/v1/traces". A URL without a path gets OTLP's /v1/traces. https
  // verifies against the system CAs plus ca_file.
  std::string endpoint;
  std::string ca_file;
  // Sent with every export, e.g. the collector's authorization header. Secret: never logged.
  std::vector<std::pair<std::string, std::string>> headers;
  std::size_t max_queue_spans = 8192;  // spans waiting; a submission past it is dropped
  std::size_t max_batch_spans = 512;   // spans per export request (a larger submission goes alone)
  std::chrono::milliseconds interval{1000};  // the longest a span waits for a batch to fill
  std::chrono::milliseconds timeout{5000};   // one export request; also bounds stop()'s flush
  std::string service_name = "switchyard";
  std::string service_version;  // empty: the gateway's version
};

class SpanExporter {
 public:
  // Throws std::invalid_argument for an endpoint that is not an http(s) URL or a header that
  // could not be sent (CR, LF), and whatever Asio throws for an unreadable ca_file: start-up
  // configuration errors.
  explicit SpanExporter(ExporterSettings settings);
  // Stops (see stop()).
  ~SpanExporter();
  SpanExporter(const SpanExporter&) = delete;
  SpanExporter& operator=(const SpanExporter&) = delete;

  // Starts the export thread, with its own io_context. Once.
  void start();
  // Exports what is queued (bounded by `timeout` overall: what is left then is dropped) and
  // joins the thread. Idempotent. Spans submitted after stop() are dropped.
  void stop();

  // Queues `span_count` spans written by SpanWriter and joined with ','. Callable from any
  // thread; takes a mutex for the push only. False when the spans were dropped because the queue
  // would exceed max_queue_spans (or the exporter has stopped).
  bool submit(std::string spans_json, std::size_t span_count);

  // Counts of spans (and of requests, `batches`): every span submitted is in exactly one of
  // queued, exported, dropped and failed.
  struct Stats {
    std::uint64_t queued = 0;    // accepted and not yet exported or failed (waiting or in flight)
    std::uint64_t exported = 0;  // the collector answered 2xx
    std::uint64_t dropped = 0;   // refused by submit(), or still queued when stop() gave up
    std::uint64_t failed = 0;    // sent but not accepted: connection failure, timeout, non-2xx
    std::uint64_t batches = 0;   // export requests made, successful or not
  };
  Stats stats() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace switchyard::telemetry
