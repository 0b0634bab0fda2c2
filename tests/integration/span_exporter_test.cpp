// The span exporter against a stand-in collector on loopback: spans from several threads arrive
// batched as valid OTLP/JSON with the configured headers; a full queue drops and counts; a failing
// collector is counted, logged once without secrets, and outlived; stop() flushes within its
// timeout; and submit() never waits for the collector.
#include <gtest/gtest.h>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"
#include "otlp_receiver.hpp"
#include "switchyard/telemetry/span.hpp"
#include "switchyard/telemetry/span_exporter.hpp"

namespace switchyard::testing {
namespace {

using telemetry::ExporterSettings;
using telemetry::SpanExporter;

std::string encoded_span(const std::string& name) {
  std::string out;
  const auto start = telemetry::unix_time_ns();
  telemetry::SpanWriter span(out, telemetry::new_trace_id(), telemetry::new_span_id(),
                             telemetry::SpanId{}, {name}, telemetry::SpanKind::server, start,
                             start + 1000);
  span.attr("gen_ai.system", "openai");
  span.end(false);
  return out;
}

// `count` spans joined, as one request's spans are submitted together.
std::string encoded_spans(const std::string& prefix, int count) {
  std::string out;
  for (int i = 0; i < count; ++i) {
    if (i) out += ',';
    out += encoded_span(prefix + std::to_string(i));
  }
  return out;
}

ExporterSettings settings_for(const OtlpReceiver& receiver) {
  ExporterSettings s;
  s.endpoint = receiver.endpoint();
  s.service_name = "switchyard-test";
  s.interval = 20ms;
  s.timeout = 5000ms;
  return s;
}

std::size_t spans_in(const std::vector<Received>& requests) {
  return otlp_spans(requests).size();
}

// Routes the process's log events into a string for the test's lifetime.
class CapturedLog {
 public:
  CapturedLog() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(stream_);
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("captured", std::move(sink)));
  }
  ~CapturedLog() { spdlog::set_default_logger(previous_); }
  // Read only when nothing logs any more (the exporter stopped).
  std::string text() const { return stream_.str(); }

 private:
  std::shared_ptr<spdlog::logger> previous_;
  std::ostringstream stream_;
};

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(SpanExporter, DeliversSpansFromTwoThreadsInBatchesOfValidOtlp) {
  OtlpReceiver receiver;
  ExporterSettings settings = settings_for(receiver);
  settings.max_batch_spans = 50;
  settings.interval = 200ms;
  SpanExporter exporter(settings);
  exporter.start();

  constexpr int kPerThread = 100;
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&exporter, t] {
      for (int i = 0; i < kPerThread; ++i)
        EXPECT_TRUE(
            exporter.submit(encoded_span("t" + std::to_string(t) + "-" + std::to_string(i)), 1));
    });
  }
  for (auto& t : threads) t.join();

  ASSERT_TRUE(receiver.wait_for([](const auto& r) { return spans_in(r) >= 2 * kPerThread; }, 10s));
  ASSERT_TRUE(eventually([&] { return exporter.stats().exported == 2 * kPerThread; }));
  const auto requests = receiver.received();
  EXPECT_LT(requests.size(), 2u * kPerThread);
  EXPECT_GE(requests.size(), 2u * kPerThread / settings.max_batch_spans);
  for (const auto& r : requests) {
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.target, "/v1/traces");
    EXPECT_EQ(r.header("content-type"), "application/json");
    EXPECT_LE(otlp_spans(r.body).size(), settings.max_batch_spans);
  }

  const auto spans = otlp_spans(requests);
  std::set<std::string> names;
  for (const auto& span : spans) {
    names.insert(span["name"].get<std::string>());
    EXPECT_EQ(span["resource"]["service.name"], "switchyard-test");
    EXPECT_EQ(span["resource"]["service.version"], SWITCHYARD_VERSION);
    EXPECT_EQ(span["scope"], "switchyard");
    EXPECT_EQ(span["kind"], 2);
    EXPECT_EQ(span["attrs"]["gen_ai.system"], "openai");
    EXPECT_EQ(span["traceId"].get<std::string>().size(), 32u);
  }
  EXPECT_EQ(names.size(), 2u * kPerThread);  // each once

  const auto stats = exporter.stats();
  EXPECT_EQ(stats.queued, 0u);
  EXPECT_EQ(stats.dropped, 0u);
  EXPECT_EQ(stats.failed, 0u);
  EXPECT_EQ(stats.batches, requests.size());
}

TEST(SpanExporter, SendsTheConfiguredHeadersWithEveryExport) {
  OtlpReceiver receiver;
  ExporterSettings settings = settings_for(receiver);
  // Without a path, the endpoint gets OTLP's /v1/traces.
  settings.endpoint = "http://127.0.0.1:" + std::to_string(receiver.port());
  settings.headers = {{"Authorization", "Bearer collector-secret"}, {"x-scope-orgid", "tenant-1"}};
  SpanExporter exporter(settings);
  exporter.start();

  ASSERT_TRUE(exporter.submit(encoded_span("first"), 1));
  ASSERT_TRUE(receiver.wait_for([](const auto& r) { return r.size() == 1; }));
  ASSERT_TRUE(exporter.submit(encoded_span("second"), 1));
  ASSERT_TRUE(receiver.wait_for([](const auto& r) { return r.size() == 2; }));
  for (const auto& r : receiver.received()) {
    EXPECT_EQ(r.target, "/v1/traces");
    EXPECT_EQ(r.header("authorization"), "Bearer collector-secret");
    EXPECT_EQ(r.header("x-scope-orgid"), "tenant-1");
    EXPECT_EQ(r.header("host"), "127.0.0.1:" + std::to_string(receiver.port()));
  }
}

TEST(SpanExporter, DropsAndCountsWhenTheQueueIsFull) {
  OtlpReceiver receiver;
  receiver.hold_responses();  // a collector that does not answer yet: nothing drains the queue
  ExporterSettings settings = settings_for(receiver);
  settings.max_queue_spans = 10;
  settings.max_batch_spans = 5;
  settings.timeout = 30s;
  SpanExporter exporter(settings);
  exporter.start();

  // A full batch goes out at once and hangs in the collector.
  ASSERT_TRUE(exporter.submit(encoded_spans("held-", 5), 5));
  ASSERT_TRUE(receiver.wait_for([](const auto& r) { return r.size() == 1; }));

  for (int i = 0; i < 10; ++i)
    ASSERT_TRUE(exporter.submit(encoded_span("queued-" + std::to_string(i)), 1)) << i;
  EXPECT_FALSE(exporter.submit(encoded_span("one-too-many"), 1));
  EXPECT_FALSE(exporter.submit(encoded_spans("two-too-many-", 2), 2));
  auto stats = exporter.stats();
  EXPECT_EQ(stats.dropped, 3u);
  EXPECT_EQ(stats.queued, 15u);  // the 10 waiting and the 5 in flight
  EXPECT_EQ(stats.exported, 0u);

  receiver.release_responses();
  ASSERT_TRUE(eventually([&] { return exporter.stats().exported == 15; }));
  ASSERT_TRUE(receiver.wait_for([](const auto& r) { return spans_in(r) == 15; }));
  for (const auto& span : otlp_spans(receiver.received()))
    EXPECT_EQ(span["name"].get<std::string>().find("too-many"), std::string::npos);
  stats = exporter.stats();
  EXPECT_EQ(stats.dropped, 3u);
  EXPECT_EQ(stats.queued, 0u);
  EXPECT_EQ(stats.failed, 0u);
}

TEST(SpanExporter, CountsFailedExportsAndKeepsGoing) {
  OtlpReceiver receiver;
  receiver.respond_with(500);
  SpanExporter exporter(settings_for(receiver));
  exporter.start();

  for (int i = 0; i < 3; ++i) ASSERT_TRUE(exporter.submit(encoded_span("lost"), 1));
  ASSERT_TRUE(eventually([&] { return exporter.stats().failed == 3; }));

  receiver.respond_with(200);
  ASSERT_TRUE(exporter.submit(encoded_spans("kept-", 2), 2));
  ASSERT_TRUE(eventually([&] { return exporter.stats().exported == 2; }));
  const auto stats = exporter.stats();
  EXPECT_EQ(stats.failed, 3u);
  EXPECT_EQ(stats.dropped, 0u);
  EXPECT_EQ(stats.queued, 0u);
}

TEST(SpanExporter, LogsAFailingCollectorOnceAndNeverItsHeaderValues) {
  CapturedLog log;
  OtlpReceiver receiver;
  receiver.respond_with(503);
  ExporterSettings settings = settings_for(receiver);
  settings.headers = {{"authorization", "Bearer very-secret-token"}};
  SpanExporter exporter(settings);
  exporter.start();

  ASSERT_TRUE(exporter.submit(encoded_span("a"), 1));
  ASSERT_TRUE(eventually([&] { return exporter.stats().failed == 1; }));
  ASSERT_TRUE(exporter.submit(encoded_span("b"), 1));
  ASSERT_TRUE(eventually([&] { return exporter.stats().failed == 2; }));
  receiver.respond_with(200);
  ASSERT_TRUE(exporter.submit(encoded_span("c"), 1));
  ASSERT_TRUE(eventually([&] { return exporter.stats().exported == 1; }));
  exporter.stop();

  const std::string text = log.text();
  EXPECT_EQ(occurrences(text, "trace_export_failed"), 1u) << text;
  EXPECT_NE(text.find("HTTP 503"), std::string::npos) << text;
  EXPECT_EQ(occurrences(text, "trace_export_recovered"), 1u) << text;
  EXPECT_EQ(text.find("very-secret-token"), std::string::npos) << text;
}

TEST(SpanExporter, FlushesWhatIsQueuedWhenStopped) {
  OtlpReceiver receiver;
  ExporterSettings settings = settings_for(receiver);
  settings.interval = std::chrono::hours(1);  // nothing leaves before stop()
  settings.max_batch_spans = 4;               // ... but whole batches
  SpanExporter exporter(settings);
  exporter.start();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(exporter.submit(encoded_span("s"), 1));
  EXPECT_EQ(exporter.stats().exported, 0u);

  const auto before = std::chrono::steady_clock::now();
  exporter.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - before, settings.timeout);
  EXPECT_EQ(spans_in(receiver.received()), 3u);
  auto stats = exporter.stats();
  EXPECT_EQ(stats.exported, 3u);
  EXPECT_EQ(stats.queued, 0u);
  EXPECT_EQ(stats.batches, 1u);

  // Later spans have nowhere to go.
  EXPECT_FALSE(exporter.submit(encoded_span("late"), 1));
  stats = exporter.stats();
  EXPECT_EQ(stats.dropped, 1u);
  exporter.stop();  // again: nothing happens
}

TEST(SpanExporter, StopGivesUpOnASilentCollectorAfterTheTimeout) {
  OtlpReceiver receiver;
  receiver.hold_responses();
  ExporterSettings settings = settings_for(receiver);
  settings.interval = std::chrono::hours(1);
  settings.timeout = 300ms;
  SpanExporter exporter(settings);
  exporter.start();
  ASSERT_TRUE(exporter.submit(encoded_spans("s", 2), 2));

  const auto before = std::chrono::steady_clock::now();
  exporter.stop();
  const auto took = std::chrono::steady_clock::now() - before;
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 3s);
  const auto stats = exporter.stats();
  EXPECT_EQ(stats.failed, 2u);
  EXPECT_EQ(stats.exported, 0u);
  EXPECT_EQ(stats.queued, 0u);
}

TEST(SpanExporter, NeverMakesSubmitWaitForAnUnreachableCollector) {
  int closed_port = 0;
  {
    OtlpReceiver gone;
    closed_port = gone.port();
  }
  ExporterSettings settings;
  settings.endpoint = "http://127.0.0.1:" + std::to_string(closed_port) + "/v1/traces";
  settings.interval = 1ms;
  settings.max_batch_spans = 10;
  settings.max_queue_spans = 100;
  settings.timeout = 3s;
  SpanExporter exporter(settings);
  exporter.start();

  constexpr int kSubmissions = 2000;
  const std::string span = encoded_span("nowhere");
  auto worst = std::chrono::steady_clock::duration::zero();
  for (int i = 0; i < kSubmissions; ++i) {
    const auto before = std::chrono::steady_clock::now();
    exporter.submit(span, 1);
    worst = std::max(worst, std::chrono::steady_clock::now() - before);
  }
  // A mutex and a push: microseconds. The bound only allows for a loaded machine's scheduler.
  EXPECT_LT(worst, 100ms);
  ASSERT_TRUE(eventually([&] { return exporter.stats().failed > 0; }));

  exporter.stop();
  const auto stats = exporter.stats();
  EXPECT_EQ(stats.exported, 0u);
  EXPECT_EQ(stats.queued, 0u);
  EXPECT_EQ(stats.failed + stats.dropped, static_cast<std::uint64_t>(kSubmissions));
}

TEST(SpanExporter, RefusesAnUnusableEndpointOrHeaderAtConstruction) {
  ExporterSettings settings;
  settings.endpoint = "127.0.0.1:4318";
  EXPECT_THROW(SpanExporter{settings}, std::invalid_argument);
  settings.endpoint = "ftp://127.0.0.1/v1/traces";
  EXPECT_THROW(SpanExporter{settings}, std::invalid_argument);

  settings.endpoint = "http://127.0.0.1:4318/v1/traces";
  settings.headers = {{"authorization", "Bearer secret\r\nx-injected: 1"}};
  try {
    SpanExporter exporter(settings);
    ADD_FAILURE() << "a header value with a line break was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).find("secret"), std::string::npos) << e.what();
  }
  settings.headers = {{"bad name", "v"}};
  EXPECT_THROW(SpanExporter{settings}, std::invalid_argument);
}

}  // namespace
}  // namespace switchyard::testing
