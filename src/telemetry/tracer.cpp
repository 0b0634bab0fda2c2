#include "switchyard/telemetry/tracer.hpp"

#include "switchyard/telemetry/span.hpp"
#include "switchyard/telemetry/span_exporter.hpp"

namespace switchyard::telemetry {

namespace {

// Past this many spans a worker hands its batch over before its tick.
constexpr std::size_t kFlushAtSpans = 256;

// Steady-clock times of the record, as Unix nanoseconds.
class Timeline {
 public:
  Timeline()
      : offset_ns_(
            static_cast<std::int64_t>(unix_time_ns()) -
            std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
                .count()) {}
  std::uint64_t at(Clock::time_point t) const {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count() +
        offset_ns_);
  }

 private:
  std::int64_t offset_ns_;
};

std::string_view operation_of(const RequestRecord& r) {
  return r.endpoint == "embeddings" ? "embeddings" : "chat";
}

}  // namespace

std::size_t append_request_spans(std::string& out, const RequestRecord& r) {
  const Timeline time;
  const auto end = Clock::now();
  std::size_t count = 0;
  auto emit = [&](const Span& span) {
    if (!out.empty()) out += ',';
    append_otlp_span(out, span);
    ++count;
  };
  const bool genai = r.endpoint == "chat" || r.endpoint == "embeddings";

  Span request;
  request.trace = r.trace_id;
  request.id = r.span_id;
  request.parent = r.parent_span;
  request.kind = SpanKind::server;
  request.name.reserve(r.method.size() + 1 + r.path.size());
  request.name.append(r.method).append(" ").append(r.path);
  request.start_unix_ns = time.at(r.start);
  request.end_unix_ns = time.at(end);
  request.set("http.request.method", r.method);
  request.set("url.path", r.path);
  request.set("http.response.status_code", r.status);
  request.set("switchyard.request_id", r.request_id);
  if (!r.key.empty()) request.set("switchyard.key", r.key);
  if (!r.route.empty()) request.set("switchyard.route", r.route);
  if (!r.cache.empty()) request.set("switchyard.cache", r.cache);
  request.set("switchyard.attempts", r.attempts.size());
  request.set("switchyard.overhead_us", r.overhead.count());
  if (genai) {
    request.set("gen_ai.operation.name", operation_of(r));
    if (!r.requested_model.empty()) request.set("gen_ai.request.model", r.requested_model);
    if (!r.upstream_model.empty()) request.set("gen_ai.response.model", r.upstream_model);
    if (r.usage_reported) {
      request.set("gen_ai.usage.input_tokens", r.prompt_tokens);
      request.set("gen_ai.usage.output_tokens", r.completion_tokens);
      request.set("switchyard.cost_usd", r.cost_usd);
    }
  }
  // A server span is in error for the server's faults only (HTTP semantic conventions).
  if (r.status >= 500 || r.status == 0) {
    request.error = true;
    request.status_message = r.error;
    request.set("error.type", r.error_code.empty() ? std::string_view("server_error")
                                                   : std::string_view(r.error_code));
  }
  emit(request);

  for (const Phase& p : r.phases) {
    Span span;
    span.trace = r.trace_id;
    span.id = new_span_id();
    span.parent = r.span_id;
    span.name = p.name;
    const bool redis = p.name.starts_with("redis.");
    span.kind = redis ? SpanKind::client : SpanKind::internal;
    span.start_unix_ns = time.at(p.start);
    span.end_unix_ns = span.start_unix_ns + static_cast<std::uint64_t>(p.duration.count()) * 1000;
    if (redis) span.set("db.system", "redis");
    if (!p.detail.empty()) span.set("switchyard.result", p.detail);
    emit(span);
  }

  for (const AttemptRecord& a : r.attempts) {
    Span span;
    span.trace = r.trace_id;
    span.id = a.span;
    span.parent = r.span_id;
    span.kind = SpanKind::client;
    span.name.append(operation_of(r)).append(" ").append(a.upstream_model);
    span.start_unix_ns = time.at(a.start);
    span.end_unix_ns = span.start_unix_ns + static_cast<std::uint64_t>(a.duration.count()) * 1000;
    span.set("gen_ai.operation.name", operation_of(r));
    span.set("gen_ai.system", a.system);
    span.set("gen_ai.request.model", a.upstream_model);
    span.set("server.address", a.server_address);
    span.set("switchyard.provider", a.provider);
    span.set("switchyard.model", a.model);
    span.set("switchyard.outcome", a.outcome);
    if (a.status > 0) span.set("http.response.status_code", a.status);
    const bool served = a.outcome == "ok" && a.provider == r.provider && a.model == r.served_model;
    if (served) {
      span.set("gen_ai.response.model", a.upstream_model);
      if (r.usage_reported) {
        span.set("gen_ai.usage.input_tokens", r.prompt_tokens);
        span.set("gen_ai.usage.output_tokens", r.completion_tokens);
      }
    } else if (a.outcome != "ok") {
      span.error = true;
      span.status_message = a.detail;
      span.set("error.type", a.outcome);
    }
    emit(span);
  }
  return count;
}

void Tracer::record(const RequestRecord& r) {
  if (!r.traced) return;
  count_ += append_request_spans(spans_, r);
  if (count_ >= kFlushAtSpans) flush();
}

void Tracer::flush() {
  if (count_ == 0) return;
  exporter_.submit(std::move(spans_), count_);
  spans_.clear();
  count_ = 0;
}

}  // namespace switchyard::telemetry
