#include "switchyard/telemetry/span_exporter.hpp"

#include <pthread.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>

#include "switchyard/async.hpp"
#include "switchyard/config/config.hpp"
#include "switchyard/telemetry/request_log.hpp"
#include "switchyard/telemetry/span.hpp"
#include "switchyard/upstream/exchange.hpp"

namespace switchyard::telemetry {

namespace {

// A collector answers with a small ExportTraceServiceResponse; more than this is not read.
constexpr std::size_t kMaxResponseBody = 64 * 1024;
// OTLP/HTTP's default path for traces, for an endpoint given without one.
constexpr std::string_view kDefaultPath = "/v1/traces";

struct Submission {
  std::string json;
  std::size_t spans = 0;
};

struct Outcome {
  bool ok = false;
  std::string why;  // the exporter's own words or upstream::Failure's: never header values
};

// RFC 9110 token characters.
bool valid_header_name(std::string_view name) {
  constexpr std::string_view kSpecials = "!#$%&'*+-.^_`|~";
  return !name.empty() && std::all_of(name.begin(), name.end(), [&](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           kSpecials.find(c) != std::string_view::npos;
  });
}

bool valid_header_value(std::string_view value) {
  return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

config::Provider collector_provider(const ExporterSettings& settings, std::string* path) {
  auto url = config::parse_url(settings.endpoint);
  if (!url) throw std::invalid_argument("trace export endpoint: " + url.error());
  *path = url->path.empty() ? std::string(kDefaultPath) : url->path;
  config::Provider provider;
  provider.name = "otlp";
  provider.base_url = std::move(*url);
  provider.ca_file = settings.ca_file;
  const auto timeout = std::max(settings.timeout, std::chrono::milliseconds(1));
  provider.timeouts = {timeout, timeout, timeout, timeout};
  // Exports are sequential on one thread: one connection, kept while the collector keeps it.
  provider.pool.max_idle = 1;
  return provider;
}

}  // namespace

struct SpanExporter::State {
  explicit State(ExporterSettings s);

  void thread_main();
  void run();
  std::vector<Submission> take_batch(std::size_t* spans);  // with `mutex` held
  void export_batch(std::vector<Submission> batch, std::size_t spans, Clock::time_point deadline);
  Awaitable<void> post(const std::vector<asio::const_buffer>& body, Clock::time_point deadline,
                       Outcome* outcome);
  void report(const Outcome& outcome, std::size_t spans);
  void drop_queue();  // with `mutex` held

  const ExporterSettings settings;
  std::string head;  // the request head up to "Content-Length: "
  asio::io_context io{1};
  std::optional<upstream::Origin> origin;  // after `io`, which must outlive it

  std::mutex control;  // start() and stop()
  std::thread thread;

  std::mutex mutex;  // everything below up to the counters
  std::condition_variable wake;
  std::deque<Submission> queue;
  std::size_t queue_spans = 0;
  Clock::time_point oldest{};  // when the queue last went from empty to not empty
  bool stopping = false;
  Clock::time_point flush_deadline{};

  std::atomic<std::uint64_t> queued{0}, exported{0}, dropped{0}, failed{0}, batches{0};

  bool failing = false;  // the export thread's only
};

SpanExporter::State::State(ExporterSettings s) : settings(std::move(s)) {
  std::string path;
  config::Provider provider = collector_provider(settings, &path);
  head = "POST " + path + " HTTP/1.1\r\nHost: " + provider.base_url.authority +
         "\r\nContent-Type: application/json\r\nUser-Agent: switchyard/" SWITCHYARD_VERSION "\r\n";
  for (const auto& [name, value] : settings.headers) {
    // The reason names the header, never its value.
    if (!valid_header_name(name))
      throw std::invalid_argument("trace export header name '" + name + "' is not a valid token");
    if (!valid_header_value(value))
      throw std::invalid_argument("trace export header '" + name +
                                  "' has a line break or NUL in its value");
    head += name;
    head += ": ";
    head += value;
    head += "\r\n";
  }
  head += "Content-Length: ";
  origin.emplace(io.get_executor(), provider);
}

void SpanExporter::State::thread_main() {
  pthread_setname_np(pthread_self(), "trace-export");
  try {
    run();
  } catch (const std::exception& e) {
    log_event(Level::error, "trace_export_stopped", e.what());
  } catch (...) {
    log_event(Level::error, "trace_export_stopped", "unknown exception");
  }
  std::lock_guard lock(mutex);
  stopping = true;  // nobody exports any more: later submissions are dropped at once
  drop_queue();
}

void SpanExporter::State::run() {
  const std::size_t max_batch = std::max<std::size_t>(settings.max_batch_spans, 1);
  const auto full_or_stopping = [&] { return stopping || queue_spans >= max_batch; };
  std::unique_lock lock(mutex);
  while (!stopping) {
    if (queue.empty()) {
      wake.wait(lock, [&] { return stopping || !queue.empty(); });
      continue;
    }
    // The interval runs from the oldest waiting span, so an idle exporter never wakes up.
    const auto due = oldest + settings.interval;
    if (!wake.wait_until(lock, due, full_or_stopping) && Clock::now() < due) continue;
    if (stopping) break;
    std::size_t spans = 0;
    auto batch = take_batch(&spans);
    lock.unlock();
    export_batch(std::move(batch), spans, Clock::now() + settings.timeout);
    lock.lock();
  }
  // stop(): export what is left, within the flush deadline.
  while (!queue.empty() && Clock::now() < flush_deadline) {
    std::size_t spans = 0;
    auto batch = take_batch(&spans);
    lock.unlock();
    export_batch(std::move(batch), spans,
                 std::min(flush_deadline, Clock::now() + settings.timeout));
    lock.lock();
  }
  drop_queue();
}

std::vector<Submission> SpanExporter::State::take_batch(std::size_t* spans) {
  // Only moved out under the lock; concatenated after it is released.
  std::vector<Submission> batch;
  while (!queue.empty()) {
    Submission& front = queue.front();
    if (*spans > 0 && *spans + front.spans > settings.max_batch_spans) break;
    *spans += front.spans;
    queue_spans -= front.spans;
    batch.push_back(std::move(front));
    queue.pop_front();
  }
  // What is left was waiting when this batch became due: it is due too, so `oldest` stays.
  return batch;
}

void SpanExporter::State::drop_queue() {
  queued.fetch_sub(queue_spans, std::memory_order_relaxed);
  dropped.fetch_add(queue_spans, std::memory_order_relaxed);
  queue.clear();
  queue_spans = 0;
}

void SpanExporter::State::export_batch(std::vector<Submission> batch, std::size_t spans,
                                       Clock::time_point deadline) {
  // The body goes out as a gather list — the envelope around the submissions, joined with
  // commas — so the spans are never copied on this side of the socket.
  const std::string prefix =
      otlp_export_prefix(settings.service_name, settings.service_version.empty()
                                                    ? std::string_view(SWITCHYARD_VERSION)
                                                    : std::string_view(settings.service_version));
  std::vector<asio::const_buffer> body;
  body.reserve(2 * batch.size() + 2);
  body.push_back(asio::buffer(prefix));
  for (const auto& s : batch) {
    if (body.size() > 1) body.push_back(asio::buffer(",", 1));
    body.push_back(asio::buffer(s.json));
  }
  body.push_back(asio::buffer(kOtlpExportSuffix));

  Outcome outcome;
  bool done = false;
  asio::co_spawn(io.get_executor(), post(body, deadline, &outcome), [&](std::exception_ptr e) {
    done = true;
    if (!e) return;
    outcome.ok = false;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      outcome.why = std::string("internal error: ") + x.what();
    } catch (...) {
      outcome.why = "internal error";
    }
  });
  // Until the export is done, not until io runs out of work: a pooled connection keeps a read
  // pending while idle, and a connection's deadline timer outlives the export.
  io.restart();
  while (!done && io.run_one() > 0) {
  }
  if (!done) outcome = {false, "the export did not complete"};

  batches.fetch_add(1, std::memory_order_relaxed);
  // queued first: whoever sees the spans counted as exported or failed sees them gone from it.
  queued.fetch_sub(spans, std::memory_order_relaxed);
  (outcome.ok ? exported : failed).fetch_add(spans, std::memory_order_relaxed);
  report(outcome, spans);
}

Awaitable<void> SpanExporter::State::post(const std::vector<asio::const_buffer>& body,
                                          Clock::time_point deadline, Outcome* outcome) {
  std::string request_head = head;
  char digits[24];
  request_head.append(digits,
                      std::to_chars(digits, digits + sizeof digits, asio::buffer_size(body)).ptr);
  request_head += "\r\n\r\n";
  upstream::Exchange exchange(*origin, deadline);
  std::vector<asio::const_buffer> request;
  request.reserve(body.size() + 1);
  request.push_back(asio::buffer(request_head));
  request.insert(request.end(), body.begin(), body.end());
  upstream::Failure sent = co_await exchange.send(request);
  if (sent) {
    outcome->why = std::move(sent.detail);
    co_return;
  }
  const int status = exchange.status();
  // Read so that the connection can be reused; whether it could be does not change the outcome.
  std::string response;
  co_await exchange.read_body(response, kMaxResponseBody);
  exchange.finish();
  if (status < 200 || status > 299) {
    // The collector's response body is not quoted: it is not ours to vouch for.
    outcome->why = "the collector answered HTTP " + std::to_string(status);
    co_return;
  }
  outcome->ok = true;
}

void SpanExporter::State::report(const Outcome& outcome, std::size_t spans) {
  // Once per change of state: a collector that is down would otherwise log every interval.
  if (!outcome.ok && !failing) {
    failing = true;
    log_event(Level::warn, "trace_export_failed",
              "exporting " + std::to_string(spans) + " spans to " + settings.endpoint +
                  " failed: " + outcome.why + "; spans are lost until an export succeeds");
  } else if (outcome.ok && failing) {
    failing = false;
    log_event(Level::info, "trace_export_recovered",
              "exporting spans to " + settings.endpoint + " works again");
  }
}

SpanExporter::SpanExporter(ExporterSettings settings)
    : state_(std::make_unique<State>(std::move(settings))) {}

SpanExporter::~SpanExporter() {
  stop();
}

void SpanExporter::start() {
  std::lock_guard control(state_->control);
  if (state_->thread.joinable()) return;
  {
    std::lock_guard lock(state_->mutex);
    if (state_->stopping) return;
  }
  state_->thread = std::thread([s = state_.get()] { s->thread_main(); });
}

void SpanExporter::stop() {
  State& s = *state_;
  std::lock_guard control(s.control);
  {
    std::lock_guard lock(s.mutex);
    if (!s.stopping) {
      s.stopping = true;
      s.flush_deadline = Clock::now() + s.settings.timeout;
    }
  }
  s.wake.notify_one();
  if (s.thread.joinable()) s.thread.join();
  // Never started: nothing will export what was queued.
  std::lock_guard lock(s.mutex);
  s.drop_queue();
}

bool SpanExporter::submit(std::string spans_json, std::size_t span_count) {
  if (span_count == 0) return true;
  State& s = *state_;
  bool notify = false;
  {
    std::lock_guard lock(s.mutex);
    if (s.stopping || s.queue_spans + span_count > s.settings.max_queue_spans) {
      s.dropped.fetch_add(span_count, std::memory_order_relaxed);
      return false;
    }
    // The export thread sleeps on an empty queue and until a batch fills: wake it for the first
    // span (to time the interval) and for the span that fills the batch, not for each one.
    const bool was_empty = s.queue.empty();
    const bool was_short = s.queue_spans < s.settings.max_batch_spans;
    if (was_empty) s.oldest = Clock::now();
    s.queue.push_back({std::move(spans_json), span_count});
    s.queue_spans += span_count;
    s.queued.fetch_add(span_count, std::memory_order_relaxed);
    notify = was_empty || (was_short && s.queue_spans >= s.settings.max_batch_spans);
  }
  if (notify) s.wake.notify_one();
  return true;
}

SpanExporter::Stats SpanExporter::stats() const {
  const State& s = *state_;
  return {s.queued.load(std::memory_order_relaxed), s.exported.load(std::memory_order_relaxed),
          s.dropped.load(std::memory_order_relaxed), s.failed.load(std::memory_order_relaxed),
          s.batches.load(std::memory_order_relaxed)};
}

}  // namespace switchyard::telemetry
