#include "switchyard/telemetry/request_log.hpp"

#include "switchyard/routing/cost.hpp"

#include <spdlog/details/null_mutex.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <mutex>

#include "switchyard/api/json.hpp"
#include "switchyard/routing/cost.hpp"

namespace switchyard::telemetry {

namespace {
std::atomic<bool> g_requests{true};
constexpr std::size_t kThreadBufferFlushAt = 32 * 1024;

// Whole lines to stdout. The lock is held for one write(2) of many lines, never per request,
// and keeps lines from different threads from interleaving on pipes (writes > PIPE_BUF are not
// atomic there).
std::mutex g_output_mutex;
void write_lines(std::string_view lines) {
  std::lock_guard lock(g_output_mutex);
  while (!lines.empty()) {
    const ssize_t n = ::write(STDOUT_FILENO, lines.data(), lines.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // nowhere to log to; serving goes on
    }
    lines.remove_prefix(static_cast<std::size_t>(n));
  }
}

// spdlog's messages (events) go out through the same path, synchronously: they are rare.
class LineSink : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    std::string line(msg.payload.data(), msg.payload.size());
    line += '\n';
    flush_thread_log();  // keep this thread's earlier request lines ahead of the event
    write_lines(line);
  }
  void flush_() override {}
};

thread_local std::string t_buffer;

static_assert(static_cast<int>(Level::error) == spdlog::level::err);

void field(std::string& out, std::string_view name, std::string_view value) {
  out += ",\"";
  out += name;
  out += "\":";
  api::json::append_quoted(out, value);
}

void field(std::string& out, std::string_view name, std::int64_t value) {
  char text[24];
  out += ",\"";
  out += name;
  out += "\":";
  out.append(text, std::to_chars(text, text + sizeof text, value).ptr);
}

// Milliseconds with three decimals, from microseconds, without printf.
void field_ms(std::string& out, std::string_view name, std::chrono::microseconds d) {
  const auto us = static_cast<std::uint64_t>(std::max<std::int64_t>(0, d.count()));
  char text[32];
  char* end = std::to_chars(text, text + 24, us / 1000).ptr;
  const auto frac = static_cast<unsigned>(us % 1000);
  *end++ = '.';
  *end++ = static_cast<char>('0' + frac / 100);
  *end++ = static_cast<char>('0' + frac / 10 % 10);
  *end++ = static_cast<char>('0' + frac % 10);
  out += ",\"";
  out += name;
  out += "\":";
  out.append(text, end);
}
}  // namespace

void init_logging(std::string_view level) {
  auto logger = std::make_shared<spdlog::logger>("switchyard", std::make_shared<LineSink>());
  logger->set_level(spdlog::level::from_str(std::string(level)));
  spdlog::set_default_logger(logger);
}

void flush_thread_log() {
  if (t_buffer.empty()) return;
  write_lines(t_buffer);
  t_buffer.clear();
}

bool request_logging_enabled() {
  return g_requests.load(std::memory_order_relaxed);
}
void set_request_logging(bool enabled) {
  g_requests.store(enabled);
}

void log_request(const RequestRecord& r) {
  if (!request_logging_enabled()) return;
  const auto now = Clock::now();
  std::string& out = t_buffer;
  const auto wall = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  char ts[24];
  out += "{\"ts_ms\":";
  out.append(ts, std::to_chars(ts, ts + sizeof ts, wall.count()).ptr);
  field(out, "event", "request");
  field(out, "request_id", r.request_id);
  field(out, "method", r.method);
  field(out, "path", r.path);
  field(out, "status", r.status);
  if (!r.key.empty()) field(out, "key", r.key);
  if (!r.requested_model.empty()) field(out, "model", r.requested_model);
  if (!r.route.empty()) field(out, "route", r.route);
  if (!r.complexity.empty()) field(out, "complexity", r.complexity);
  if (!r.routing.empty()) field(out, "routing_reason", r.routing);
  if (!r.preference.empty()) field(out, "preferred_provider", r.preference);
  if (!r.cache.empty()) field(out, "cache", r.cache);
  if (!r.provider.empty()) field(out, "provider", r.provider);
  if (!r.upstream_model.empty()) field(out, "upstream_model", r.upstream_model);
  if (r.stream) out += ",\"stream\":true";
  if (!r.stream_end.empty()) field(out, "stream_end", r.stream_end);
  if (r.client_gone) out += ",\"client_gone\":true";
  if (r.hedged) out += ",\"hedged\":true";
  field_ms(out, "duration_ms",
           std::chrono::duration_cast<std::chrono::microseconds>(now - r.start));
  if (r.first_byte.count() > 0) field_ms(out, "first_byte_ms", r.first_byte);
  field(out, "bytes_out", static_cast<std::int64_t>(r.bytes_out));
  if (r.usage_reported) {
    field(out, "prompt_tokens", static_cast<std::int64_t>(r.prompt_tokens));
    field(out, "completion_tokens", static_cast<std::int64_t>(r.completion_tokens));
    field(out, "cached_tokens", static_cast<std::int64_t>(r.cached_tokens));
    out += ",\"cost_usd\":";
    out += routing::format_usd(r.cost_usd);
  }
  if (!r.error.empty()) field(out, "error", r.error);
  if (!r.attempts.empty()) {
    out += ",\"attempts\":[";
    for (std::size_t i = 0; i < r.attempts.size(); ++i) {
      const auto& a = r.attempts[i];
      out += i ? ",{" : "{";
      out += "\"provider\":";
      api::json::append_quoted(out, a.provider);
      field(out, "model", a.model);
      field(out, "status", a.status);
      field(out, "outcome", a.outcome);
      if (!a.detail.empty()) field(out, "detail", a.detail);
      field_ms(out, "ms", a.duration);
      out += '}';
    }
    out += ']';
  }
  out += "}\n";
  if (out.size() >= kThreadBufferFlushAt) flush_thread_log();
}

void log_event(Level level, std::string_view event, std::string_view message) {
  auto* logger = spdlog::default_logger_raw();
  const auto lvl = static_cast<spdlog::level::level_enum>(level);
  if (!logger->should_log(lvl)) return;
  const auto wall = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  std::string out = "{\"ts_ms\":" + std::to_string(wall.count());
  field(out, "event", event);
  const auto level_name = spdlog::level::to_string_view(lvl);
  field(out, "level", std::string_view(level_name.data(), level_name.size()));
  field(out, "message", message);
  out += '}';
  logger->log(lvl, spdlog::string_view_t(out));
}

}  // namespace switchyard::telemetry
