// The record every request leaves: filled in while the request is handled, written as one JSON
// line when it ends. Holds no secrets by construction: only names, numbers and the gateway's own
// messages (which never contain keys).
#pragma once

#include <boost/container/small_vector.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "switchyard/telemetry/trace_context.hpp"

namespace switchyard::telemetry {

using Clock = std::chrono::steady_clock;

// How long a request waited on its upstreams (a send and its answer's head, a body read, a backoff
// pause between attempts): what the request took beyond that was the gateway's own time, its
// overhead. Overlapping waits (a hedge beside its first target) count once.
class UpstreamWait {
 public:
  void begin(Clock::time_point now) {
    if (waiting_++ == 0) since_ = now;
  }
  void end(Clock::time_point now) {
    if (--waiting_ == 0) total_ += now - since_;
  }
  std::chrono::microseconds total(Clock::time_point now) const {
    return std::chrono::duration_cast<std::chrono::microseconds>(
        total_ + (waiting_ > 0 ? now - since_ : Clock::duration::zero()));
  }

 private:
  int waiting_ = 0;
  Clock::time_point since_{};
  Clock::duration total_{};
};

// Waits on the upstream from construction to destruction.
class WaitScope {
 public:
  explicit WaitScope(UpstreamWait& wait) : wait_(wait) { wait_.begin(Clock::now()); }
  ~WaitScope() { wait_.end(Clock::now()); }
  WaitScope(const WaitScope&) = delete;
  WaitScope& operator=(const WaitScope&) = delete;

 private:
  UpstreamWait& wait_;
};

// A step of the request worth its own span: routing, a cache lookup, a Redis call.
struct Phase {
  std::string_view name;  // a literal: "routing", "cache.lookup", "redis.key_admission"…
  Clock::time_point start;
  std::chrono::microseconds duration{0};
  std::string_view detail;  // a literal or a view into the config: "hit", the route chosen…
  SpanId span{};            // its span's id when something downstream was told it; else made
  SpanId parent{};          // its parent span's id; zero: the request's
  bool failed = false;      // its span is in error
};

struct AttemptRecord {
  std::string_view provider;  // views into the config snapshot, which outlives the request
  std::string_view model;
  std::string_view upstream_model;  // the model's name at the provider
  std::string_view system;          // the provider's kind, as gen_ai.system names it
  std::string_view server_address;  // the provider's host
  int status = 0;                   // upstream HTTP status, 0 when none arrived
  std::string_view outcome;  // "ok", "relayed_error", "retryable", "fall_over", "timeout", …
  std::string detail;        // why it failed
  std::chrono::microseconds duration{0};
  Clock::time_point start{};
  SpanId span;  // the traceparent the upstream was sent names this span
};

struct RequestRecord {
  Clock::time_point start = Clock::now();
  std::string_view request_id;
  std::string_view method;
  std::string_view path;
  std::string_view endpoint;  // what `path` is, for metrics: "chat", "models", "admin"... (literal)
  std::string_view key;       // the gateway key's configured name (never the key)
  std::string requested_model;
  std::string_view route;       // the route that served (after complexity and budgets)
  std::string_view complexity;  // a classifier route's verdict: "simple" or "complex"
  // Why `route` serves what the client named, when they differ: the complexity verdict's reason,
  // budgets that handed over to their `then` route.
  std::string routing;
  std::string_view preference;    // the client's preferred provider: "applied" or "ignored"
  std::string_view provider;      // the one that served, if any
  std::string_view served_model;  // its model alias
  std::string_view upstream_model;
  std::string_view cache;  // "hit", "miss" or "bypass"; empty when the cache was not asked
  bool stream = false;
  int status = 0;
  std::string error;  // the gateway's error message, when it made one
  // Set when the gateway refused the request before any upstream was asked: the error's code (or
  // type), a small fixed set, for metrics.
  std::string error_code;
  // An MCP request (endpoint "mcp"): its JSON-RPC method, the server it went to, the tool or
  // prompt named, the session (its nonce, never the signed id) and the JSON-RPC error code.
  struct Mcp {
    std::string method;
    std::string server;
    std::string name;
    std::string session;
    int error_code = 0;
  };
  Mcp mcp;
  std::string_view stream_end;  // "done", "interrupted", "client_gone"
  bool client_gone = false;
  bool hedged = false;                      // a second target was started beside a slow first one
  std::chrono::microseconds first_byte{0};  // to the first byte written to the client
  std::uint64_t bytes_out = 0;
  // Tokens as the serving provider reported them (all zero when it reported none).
  bool usage_reported = false;
  std::uint64_t prompt_tokens = 0;
  std::uint64_t completion_tokens = 0;
  std::uint64_t cached_tokens = 0;
  double cost_usd = 0;  // from the serving model's prices and the usage (when reported)
  boost::container::small_vector<AttemptRecord, 2> attempts;
  UpstreamWait wait;
  std::chrono::microseconds overhead{0};  // set when the request ends
  // W3C trace context: the client's trace (or a new one), this request's own span, the client's
  // span it is a child of (zero when the trace starts here), and whether it is exported.
  TraceId trace_id;
  SpanId span_id;
  SpanId parent_span;
  std::uint8_t trace_flags = 0;
  std::string_view tracestate;  // the client's, when valid: a view into the request
  bool traced = false;
  boost::container::small_vector<Phase, 3> phases;

  // The gateway's own time so far: everything but the waits on upstreams.
  std::chrono::microseconds overhead_at(Clock::time_point now) const {
    return std::chrono::duration_cast<std::chrono::microseconds>(now - start) - wait.total(now);
  }
  // Records a phase that began at `begun` and ends now.
  void phase(std::string_view name, Clock::time_point begun, std::string_view detail = {}) {
    phases.push_back({name, begun,
                      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - begun),
                      detail});
  }
};

enum class LogFormat { json, text };
// Configures the process-wide logger: lines in `format` to `file` (appended; empty: stdout),
// written by a background thread. Call once at start-up; throws std::runtime_error when the file
// cannot be opened.
void init_logging(std::string_view level, LogFormat format = LogFormat::json,
                  const std::string& file = {});
// Writes what is still queued and stops the background writer. At exit.
void shutdown_logging();
// Lines dropped because the output could not keep up (the queue holds at most 64 MiB).
std::uint64_t log_lines_dropped();
bool request_logging_enabled();
void set_request_logging(bool enabled);
// Formats the record as one line into this thread's buffer. Nothing crosses threads per request:
// the buffer is handed to the writer by flush_thread_log(), or when it fills up.
void log_request(const RequestRecord& r);
// Writes this thread's buffered lines (worker threads call it on a short timer, and on exit).
void flush_thread_log();

// Same values as spdlog's levels.
enum class Level { trace, debug, info, warn, error };
// A one-line JSON event: start-up, shutdown, anything that is not a request.
void log_event(Level level, std::string_view event, std::string_view message);

}  // namespace switchyard::telemetry
