// The record every request leaves: filled in while the request is handled, written as one JSON
// line when it ends. Holds no secrets by construction: only names, numbers and the gateway's own
// messages (which never contain keys).
#pragma once

#include <boost/container/small_vector.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace switchyard::telemetry {

using Clock = std::chrono::steady_clock;

struct AttemptRecord {
  std::string_view provider;  // views into the config snapshot, which outlives the request
  std::string_view model;
  int status = 0;            // upstream HTTP status, 0 when none arrived
  std::string_view outcome;  // "ok", "relayed_error", "retryable", "fall_over", "timeout", …
  std::string detail;        // why it failed
  std::chrono::microseconds duration{0};
};

struct RequestRecord {
  Clock::time_point start = Clock::now();
  std::string_view request_id;
  std::string_view method;
  std::string_view path;
  std::string_view key;  // the gateway key's configured name (never the key)
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
  std::string error;            // the gateway's error message, when it made one
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
};

// Configures the process-wide logger (JSON lines on stdout). Call once at start-up.
void init_logging(std::string_view level);
bool request_logging_enabled();
void set_request_logging(bool enabled);
// Formats the record as one JSON line into this thread's buffer. Nothing crosses threads per
// request: the buffer is written out by flush_thread_log(), or when it fills up.
void log_request(const RequestRecord& r);
// Writes this thread's buffered lines (worker threads call it on a short timer, and on exit).
void flush_thread_log();

// Same values as spdlog's levels.
enum class Level { trace, debug, info, warn, error };
// A one-line JSON event: start-up, shutdown, anything that is not a request.
void log_event(Level level, std::string_view event, std::string_view message);

}  // namespace switchyard::telemetry
