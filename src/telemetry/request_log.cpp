#include "switchyard/telemetry/request_log.hpp"

#include <fcntl.h>
#include <spdlog/details/null_mutex.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "switchyard/api/json.hpp"
#include "switchyard/routing/cost.hpp"

namespace switchyard::telemetry {

namespace {
std::atomic<bool> g_requests{true};
LogFormat g_format = LogFormat::json;  // set once at start-up, before any worker runs
constexpr std::size_t kThreadBufferFlushAt = 32 * 1024;
// Past this much queued output the writer has fallen behind for good (a blocked pipe, a full
// disk): newer lines are dropped and counted rather than held, or the gateway would grow
// without bound or wait on its log.
constexpr std::size_t kMaxQueuedBytes = 64 * 1024 * 1024;

void write_all(int fd, std::string_view lines) {
  while (!lines.empty()) {
    const ssize_t n = ::write(fd, lines.data(), lines.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // nowhere to log to; serving goes on
    }
    lines.remove_prefix(static_cast<std::size_t>(n));
  }
}

// The one writer of the log output. Workers hand it whole buffers of lines (every 100 ms, or
// when a buffer fills): no request waits on a write(2) to a slow pipe or disk. Before start()
// and after stop() lines are written at once by the caller (start-up errors, tests).
class Output {
 public:
  ~Output() { stop(); }
  void start(int fd) {
    if (thread_.joinable()) return;
    fd_ = fd;
    thread_ = std::thread([this] { run(); });
  }
  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    if (thread_.joinable()) thread_.join();
  }
  void push(std::string lines) {
    {
      std::unique_lock lock(mutex_);
      if (thread_.joinable() && !stopping_) {
        if (queued_ + lines.size() > kMaxQueuedBytes) {
          dropped_.fetch_add(
              static_cast<std::uint64_t>(std::count(lines.begin(), lines.end(), '\n')),
              std::memory_order_relaxed);
          return;
        }
        queued_ += lines.size();
        queue_.push_back(std::move(lines));
        lock.unlock();
        wake_.notify_one();
        return;
      }
      // No writer thread: in order with anything written the same way.
      write_all(fd_, lines);
    }
  }
  std::uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  void run() {
    std::unique_lock lock(mutex_);
    for (;;) {
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      while (!queue_.empty()) {
        std::string lines = std::move(queue_.front());
        queue_.pop_front();
        queued_ -= lines.size();
        lock.unlock();
        write_all(fd_, lines);
        lock.lock();
      }
      if (stopping_) return;
    }
  }

  int fd_ = STDOUT_FILENO;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::string> queue_;
  std::size_t queued_ = 0;
  bool stopping_ = false;
  std::thread thread_;
  std::atomic<std::uint64_t> dropped_{0};
};

Output& output() {
  static Output instance;
  return instance;
}

// spdlog's messages (events) are formatted here already, and go out through the same queue.
class LineSink : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    std::string line(msg.payload.data(), msg.payload.size());
    line += '\n';
    flush_thread_log();  // keep this thread's earlier request lines ahead of the event
    output().push(std::move(line));
  }
  void flush_() override {}
};

thread_local std::string t_buffer;

static_assert(static_cast<int>(Level::error) == spdlog::level::err);

// One log line in either format: JSON (`{"name":value,...}`) or logfmt (`name=value ...`, values
// quoted when they need it). Lists of objects (the attempts) become `attempts.0.name=value` in
// logfmt.
//
// Written through a raw pointer into `out`, grown ahead of the writes: a request line has some
// thirty fields, and appending them piece by piece to the string cost more than everything else
// the line does. `out` holds slack past the line until end() cuts it.
class Line {
 public:
  explicit Line(std::string& out)
      : out_(out), json_(g_format == LogFormat::json), begin_(out.size()) {
    out_.resize(begin_ + kSlack);
    w_ = out_.data() + begin_;
    end_ = out_.data() + out_.size();
    if (json_) *w_++ = '{';
  }
  Line(const Line&) = delete;
  Line& operator=(const Line&) = delete;
  // A line that an exception left unfinished is taken back whole, slack included.
  ~Line() {
    if (w_ != nullptr) out_.resize(begin_);
  }
  void end() {
    room(2);
    if (json_) *w_++ = '}';
    *w_++ = '\n';
    out_.resize(static_cast<std::size_t>(w_ - out_.data()));
    w_ = nullptr;
  }

  // The writers and key() are inlined into the lines that call them: the names are literals
  // there, so copying one is a store or two instead of a call to memcpy (30 a request line).
  [[gnu::always_inline]] void text(std::string_view name, std::string_view value) {
    key(name);
    if (json_) {
      room(api::json::quoted_size_bound(value.size()));
      w_ = api::json::write_quoted(w_, value);
    } else {
      logfmt_value(value);
    }
  }
  [[gnu::always_inline]] void number(std::string_view name, std::int64_t value) {
    key(name);
    room(24);
    w_ = std::to_chars(w_, w_ + 24, value).ptr;
  }
  void boolean(std::string_view name, bool value) { raw(name, value ? "true" : "false"); }
  // Milliseconds with three decimals, from microseconds, without printf.
  [[gnu::always_inline]] void ms(std::string_view name, std::chrono::microseconds d) {
    key(name);
    room(28);
    const auto us = static_cast<std::uint64_t>(std::max<std::int64_t>(0, d.count()));
    w_ = std::to_chars(w_, w_ + 24, us / 1000).ptr;
    const auto frac = static_cast<unsigned>(us % 1000);
    *w_++ = '.';
    *w_++ = static_cast<char>('0' + frac / 100);
    *w_++ = static_cast<char>('0' + frac / 10 % 10);
    *w_++ = static_cast<char>('0' + frac % 10);
  }
  // A value already spelled as a JSON number (or true/false).
  void raw(std::string_view name, std::string_view value) {
    key(name);
    put(value);
  }
  void begin_list(std::string_view name) {
    list_ = name;
    item_ = -1;
    if (json_) {
      key(name);
      put("[");
      first_ = true;
    }
  }
  void begin_item() {
    ++item_;
    if (json_) {
      put(item_ ? ",{" : "{");
      first_ = true;
    }
  }
  void end_item() {
    if (json_) put("}");
  }
  void end_list() {
    if (json_) put("]");
    first_ = false;
    list_ = {};
  }

 private:
  static constexpr std::size_t kSlack = 1024;

  // Makes room for `n` more bytes at w_.
  void room(std::size_t n) {
    if (static_cast<std::size_t>(end_ - w_) < n) [[unlikely]]
      grow(n);
  }
  [[gnu::noinline]] void grow(std::size_t n) {
    const auto used = static_cast<std::size_t>(w_ - out_.data());
    out_.resize(std::max(2 * out_.size(), used + n + kSlack));
    w_ = out_.data() + used;
    end_ = out_.data() + out_.size();
  }
  // Copies `text` into room made before.
  void copy(std::string_view text) {
    std::memcpy(w_, text.data(), text.size());
    w_ += text.size();
  }
  void put(std::string_view text) {
    room(text.size());
    copy(text);
  }
  [[gnu::always_inline]] void key(std::string_view name) {
    room(list_.size() + name.size() + 24);
    if (!first_) *w_++ = json_ ? ',' : ' ';
    first_ = false;
    if (json_) {
      *w_++ = '"';
      copy(name);
      *w_++ = '"';
      *w_++ = ':';
      return;
    }
    if (!list_.empty()) {
      copy(list_);
      *w_++ = '.';
      w_ = std::to_chars(w_, w_ + 12, item_).ptr;
      *w_++ = '.';
    }
    copy(name);
    *w_++ = '=';
  }
  void logfmt_value(std::string_view value) {
    const bool plain = !value.empty() && std::all_of(value.begin(), value.end(), [](char c) {
      return c > ' ' && c != '"' && c != '=' && c != '\\' && static_cast<unsigned char>(c) < 0x7f;
    });
    if (plain) {
      put(value);
      return;
    }
    room(2 * value.size() + 2);
    *w_++ = '"';
    for (const char c : value) {
      if (c == '"' || c == '\\') {
        *w_++ = '\\';
        *w_++ = c;
      } else if (c == '\n') {
        *w_++ = '\\';
        *w_++ = 'n';
      } else if (static_cast<unsigned char>(c) < ' ') {
        *w_++ = ' ';
      } else {
        *w_++ = c;
      }
    }
    *w_++ = '"';
  }

  std::string& out_;
  const bool json_;
  const std::size_t begin_;  // where the line starts in out_
  char* w_ = nullptr;        // where the next byte goes
  char* end_ = nullptr;      // the end of the room in out_
  bool first_ = true;
  std::string_view list_;
  int item_ = -1;
};

// The wall clock: milliseconds since the epoch in JSON; RFC 3339 in UTC for people.
void timestamp(Line& line) {
  const auto wall = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  if (g_format == LogFormat::json) {
    line.number("ts_ms", wall.count());
    return;
  }
  const std::time_t seconds = static_cast<std::time_t>(wall.count() / 1000);
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  char text[32];
  const std::size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  const auto millis = static_cast<int>(wall.count() % 1000);
  char* end = text + n;
  *end++ = '.';
  *end++ = static_cast<char>('0' + millis / 100);
  *end++ = static_cast<char>('0' + millis / 10 % 10);
  *end++ = static_cast<char>('0' + millis % 10);
  *end++ = 'Z';
  line.raw("ts", {text, end});
}

}  // namespace

void init_logging(std::string_view level, LogFormat format, const std::string& file) {
  g_format = format;
  int fd = STDOUT_FILENO;
  if (!file.empty()) {
    fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0)
      throw std::runtime_error("cannot open log file '" + file + "': " + std::strerror(errno));
  }
  auto logger = std::make_shared<spdlog::logger>("switchyard", std::make_shared<LineSink>());
  logger->set_level(spdlog::level::from_str(std::string(level)));
  spdlog::set_default_logger(logger);
  output().start(fd);
}

void shutdown_logging() {
  flush_thread_log();
  output().stop();
}

std::uint64_t log_lines_dropped() {
  return output().dropped();
}

void flush_thread_log() {
  if (t_buffer.empty()) return;
  std::string lines;
  lines.reserve(kThreadBufferFlushAt + kThreadBufferFlushAt / 2);
  lines.swap(t_buffer);
  output().push(std::move(lines));
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
  Line line(t_buffer);
  timestamp(line);
  line.text("event", "request");
  line.text("request_id", r.request_id);
  char trace[TraceId::kHexSize];
  r.trace_id.to_hex(trace);
  line.text("trace_id", {trace, sizeof trace});
  line.text("method", r.method);
  line.text("path", r.path);
  line.number("status", r.status);
  if (!r.key.empty()) line.text("key", r.key);
  if (!r.requested_model.empty()) line.text("model", r.requested_model);
  if (!r.route.empty()) line.text("route", r.route);
  if (!r.complexity.empty()) line.text("complexity", r.complexity);
  if (!r.routing.empty()) line.text("routing_reason", r.routing);
  if (!r.preference.empty()) line.text("preferred_provider", r.preference);
  if (!r.cache.empty()) line.text("cache", r.cache);
  if (!r.provider.empty()) line.text("provider", r.provider);
  if (!r.upstream_model.empty()) line.text("upstream_model", r.upstream_model);
  if (!r.mcp.method.empty()) {
    line.text("mcp_method", r.mcp.method);
    if (!r.mcp.server.empty()) line.text("mcp_server", r.mcp.server);
    if (!r.mcp.name.empty()) line.text("mcp_name", r.mcp.name);
    if (!r.mcp.session.empty()) line.text("mcp_session", r.mcp.session);
    if (r.mcp.error_code != 0) line.number("rpc_error", r.mcp.error_code);
  }
  if (r.stream) line.boolean("stream", true);
  if (!r.stream_end.empty()) line.text("stream_end", r.stream_end);
  if (r.client_gone) line.boolean("client_gone", true);
  if (r.hedged) line.boolean("hedged", true);
  line.ms("duration_ms", std::chrono::duration_cast<std::chrono::microseconds>(now - r.start));
  if (r.first_byte.count() > 0) line.ms("first_byte_ms", r.first_byte);
  line.ms("overhead_ms", r.overhead);
  line.number("bytes_out", static_cast<std::int64_t>(r.bytes_out));
  if (r.usage_reported) {
    line.number("prompt_tokens", static_cast<std::int64_t>(r.prompt_tokens));
    line.number("completion_tokens", static_cast<std::int64_t>(r.completion_tokens));
    line.number("cached_tokens", static_cast<std::int64_t>(r.cached_tokens));
    line.raw("cost_usd", routing::format_usd(r.cost_usd));
  }
  if (!r.error.empty()) line.text("error", r.error);
  if (!r.attempts.empty()) {
    line.begin_list("attempts");
    for (const auto& a : r.attempts) {
      line.begin_item();
      line.text("provider", a.provider);
      line.text("model", a.model);
      line.number("status", a.status);
      line.text("outcome", a.outcome);
      if (!a.detail.empty()) line.text("detail", a.detail);
      line.ms("ms", a.duration);
      line.end_item();
    }
    line.end_list();
  }
  line.end();
  if (t_buffer.size() >= kThreadBufferFlushAt) flush_thread_log();
}

void log_event(Level level, std::string_view event, std::string_view message) {
  auto* logger = spdlog::default_logger_raw();
  const auto lvl = static_cast<spdlog::level::level_enum>(level);
  if (!logger->should_log(lvl)) return;
  std::string out;
  Line line(out);
  timestamp(line);
  line.text("event", event);
  const auto level_name = spdlog::level::to_string_view(lvl);
  line.text("level", std::string_view(level_name.data(), level_name.size()));
  line.text("message", message);
  line.end();
  out.pop_back();  // the sink ends the line
  logger->log(lvl, spdlog::string_view_t(out));
}

}  // namespace switchyard::telemetry
