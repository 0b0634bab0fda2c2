#include "switchyard/telemetry/tracer.hpp"

#include "switchyard/telemetry/span.hpp"
#include "switchyard/telemetry/span_exporter.hpp"

namespace switchyard::telemetry {

namespace {

// Past this many spans a worker hands its batch over before its tick: the buffer (about 60 KiB)
// stays below malloc's mmap threshold, so a new one costs no fresh pages.
constexpr std::size_t kFlushAtSpans = 64;
constexpr std::size_t kBufferReserve = 80 * 1024;

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
  auto next = [&] {
    if (!out.empty()) out += ',';
    ++count;
  };
  const bool genai = r.endpoint == "chat" || r.endpoint == "messages" || r.endpoint == "embeddings";
  const std::string_view operation = operation_of(r);

  next();
  SpanWriter request(out, r.trace_id, r.span_id, r.parent_span, {r.method, r.path},
                     SpanKind::server, time.at(r.start), time.at(end));
  // The method and path are in the name; the attempts are the child spans. Kept short: every
  // byte here is a byte the collector link carries for every request.
  request.attr("http.response.status_code", r.status);
  request.attr("switchyard.request_id", r.request_id);
  if (!r.key.empty()) request.attr("switchyard.key", r.key);
  if (!r.route.empty()) request.attr("switchyard.route", r.route);
  if (!r.cache.empty() && r.cache != "bypass") request.attr("switchyard.cache", r.cache);
  request.attr("switchyard.overhead_us", r.overhead.count());
  if (!r.mcp.method.empty()) {
    // OpenTelemetry's conventions for MCP.
    request.attr("mcp.method.name", r.mcp.method);
    if (!r.mcp.session.empty()) request.attr("mcp.session.id", r.mcp.session);
    if (!r.mcp.server.empty()) request.attr("switchyard.mcp_server", r.mcp.server);
    if (r.mcp.method == "tools/call" && !r.mcp.name.empty())
      request.attr("gen_ai.tool.name", r.mcp.name);
    if (r.mcp.error_code != 0) request.attr("rpc.jsonrpc.error_code", r.mcp.error_code);
  }
  if (genai) {
    if (!r.requested_model.empty()) request.attr("gen_ai.request.model", r.requested_model);
    if (!r.upstream_model.empty()) request.attr("gen_ai.response.model", r.upstream_model);
    if (r.usage_reported) {
      request.attr("gen_ai.usage.input_tokens", r.prompt_tokens);
      request.attr("gen_ai.usage.output_tokens", r.completion_tokens);
      request.attr("switchyard.cost_usd", r.cost_usd);
    }
  }
  // A server span is in error for the server's faults only (HTTP semantic conventions).
  const bool failed = r.status >= 500 || r.status == 0;
  if (failed)
    request.attr("error.type", r.error_code.empty() ? std::string_view("server_error")
                                                    : std::string_view(r.error_code));
  request.end(failed, r.error);

  for (const Phase& p : r.phases) {
    next();
    const bool redis = p.name.starts_with("redis.");
    const bool mcp = p.name.starts_with("mcp.");
    const auto start = time.at(p.start);
    SpanWriter span(out, r.trace_id, p.span.is_zero() ? new_span_id() : p.span,
                    p.parent.is_zero() ? r.span_id : p.parent, {p.name},
                    redis || mcp ? SpanKind::client : SpanKind::internal, start,
                    start + static_cast<std::uint64_t>(p.duration.count()) * 1000);
    if (redis) span.attr("db.system", "redis");
    if (mcp) span.attr("mcp.method.name", r.mcp.method);
    // An MCP phase's detail is the server it went to.
    if (!p.detail.empty()) span.attr(mcp ? "switchyard.mcp_server" : "switchyard.result", p.detail);
    span.end(p.failed);
  }

  for (const AttemptRecord& a : r.attempts) {
    next();
    const auto start = time.at(a.start);
    SpanWriter span(out, r.trace_id, a.span, r.span_id, {operation, a.upstream_model},
                    SpanKind::client, start,
                    start + static_cast<std::uint64_t>(a.duration.count()) * 1000);
    span.attr("gen_ai.operation.name", operation);
    span.attr("gen_ai.system", a.system);
    span.attr("gen_ai.request.model", a.upstream_model);
    span.attr("server.address", a.server_address);
    span.attr("switchyard.provider", a.provider);
    if (a.status > 0) span.attr("http.response.status_code", a.status);
    const bool served = a.outcome == "ok" && a.provider == r.provider && a.model == r.served_model;
    if (served) {
      span.attr("gen_ai.response.model", a.upstream_model);
      if (r.usage_reported) {
        span.attr("gen_ai.usage.input_tokens", r.prompt_tokens);
        span.attr("gen_ai.usage.output_tokens", r.completion_tokens);
      }
    } else if (a.outcome != "ok") {
      span.attr("error.type", a.outcome);  // the attempt's error class
    }
    span.end(!served && a.outcome != "ok", a.detail);
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
  spans_.reserve(kBufferReserve);
  count_ = 0;
}

}  // namespace switchyard::telemetry
