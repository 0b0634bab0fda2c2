// The metrics registry: per-thread shards summed at scrape time, and the text they are shown in.
#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "switchyard/telemetry/metrics.hpp"

// Counts the calling thread's allocations, so that a test can show recording into an existing
// series allocates nothing. Replacing these is program-wide but only counts; allocation is
// unchanged. Every unaligned form is replaced: AddressSanitizer's runtime brings its own of each,
// and memory from one of its forms must not reach free() through one of these. ThreadSanitizer's
// cannot be replaced at all: there, nothing is counted and the test is skipped.
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SWITCHYARD_NO_ALLOCATION_COUNT
#endif
#endif
#ifndef SWITCHYARD_NO_ALLOCATION_COUNT
namespace {
thread_local std::size_t allocations = 0;

void* counted(std::size_t size) noexcept {
  ++allocations;
  return std::malloc(size == 0 ? 1 : size);
}
}  // namespace

void* operator new(std::size_t size) {
  if (void* p = counted(size)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) {
  return operator new(size);
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  return counted(size);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  return counted(size);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}
#endif

namespace switchyard::telemetry {
namespace {

namespace fs = std::filesystem;

std::string text_of(const Registry& registry) {
  std::string out;
  registry.write(out);
  return out;
}

// The value of the sample line starting with `series` (name and labels), if there is one.
std::optional<double> sample_value(const std::string& text, const std::string& series) {
  const std::string prefix = series + ' ';
  std::size_t at = text.starts_with(prefix) ? 0 : text.find('\n' + prefix);
  if (at == std::string::npos) return std::nullopt;
  if (at != 0) ++at;
  return std::stod(text.substr(at + prefix.size(), text.find('\n', at) - at - prefix.size()));
}

std::size_t lines_starting_with(const std::string& text, const std::string& start) {
  std::size_t count = 0;
  for (std::size_t at = 0; at < text.size(); at = text.find('\n', at) + 1) {
    if (text.compare(at, start.size(), start) == 0) ++count;
    if (text.find('\n', at) == std::string::npos) break;
  }
  return count;
}

constexpr std::string_view kDroppedZero =
    "# HELP switchyard_metric_series_dropped_total Metric series not recorded because their shard "
    "held its maximum already.\n"
    "# TYPE switchyard_metric_series_dropped_total counter\n"
    "switchyard_metric_series_dropped_total 0\n";

// A registry shaped like the gateway's: labelled counters, a gauge, a latency histogram stored in
// microseconds, spend stored in micro-USD, and a family nothing has recorded into yet.
struct SmallRegistry {
  Registry registry;
  FamilyId requests = registry.add(
      {"switchyard_requests_total", "Requests handled.", MetricType::counter, {"route", "status"}});
  FamilyId in_flight = registry.add(
      {"switchyard_requests_in_flight", "Requests being handled.", MetricType::gauge, {}});
  FamilyId duration = registry.add({"switchyard_request_duration_seconds",
                                    "Time to the last byte.",
                                    MetricType::histogram,
                                    {"route"},
                                    {0.1, 1},
                                    1e-6});
  FamilyId cost = registry.add({"switchyard_cost_usd_total",
                                "Spend at list prices.",
                                MetricType::counter,
                                {"provider"},
                                {},
                                1e-6});
  FamilyId reloads = registry.add(
      {"switchyard_config_reloads_total", "Configuration reloads.", MetricType::counter, {}});

  void record(WorkerMetrics& shard) const {
    shard.add(requests, {"embed", "200"});
    shard.add(requests, {"chat", "429"});
    shard.add(requests, {"chat", "200"}, 2);
    shard.gauge_add(in_flight, {}, 3);
    shard.gauge_add(in_flight, {}, -1);
    shard.observe(duration, {"chat"}, 50'000);
    shard.observe(duration, {"chat"}, 100'000);
    shard.observe(duration, {"chat"}, 2'500'000);
    shard.add(cost, {"openai"}, 1'234'567);
  }
};

TEST(Metrics, WritesEveryTypeInTextFormatSortedByLabelValues) {
  SmallRegistry small;
  small.record(*small.registry.shard());
  EXPECT_EQ(text_of(small.registry),
            std::string("# HELP switchyard_requests_total Requests handled.\n"
                        "# TYPE switchyard_requests_total counter\n"
                        "switchyard_requests_total{route=\"chat\",status=\"200\"} 2\n"
                        "switchyard_requests_total{route=\"chat\",status=\"429\"} 1\n"
                        "switchyard_requests_total{route=\"embed\",status=\"200\"} 1\n"
                        "# HELP switchyard_requests_in_flight Requests being handled.\n"
                        "# TYPE switchyard_requests_in_flight gauge\n"
                        "switchyard_requests_in_flight 2\n"
                        "# HELP switchyard_request_duration_seconds Time to the last byte.\n"
                        "# TYPE switchyard_request_duration_seconds histogram\n"
                        "switchyard_request_duration_seconds_bucket{route=\"chat\",le=\"0.1\"} 2\n"
                        "switchyard_request_duration_seconds_bucket{route=\"chat\",le=\"1\"} 2\n"
                        "switchyard_request_duration_seconds_bucket{route=\"chat\",le=\"+Inf\"} 3\n"
                        "switchyard_request_duration_seconds_sum{route=\"chat\"} 2.65\n"
                        "switchyard_request_duration_seconds_count{route=\"chat\"} 3\n"
                        "# HELP switchyard_cost_usd_total Spend at list prices.\n"
                        "# TYPE switchyard_cost_usd_total counter\n"
                        "switchyard_cost_usd_total{provider=\"openai\"} 1.234567\n"
                        "# HELP switchyard_config_reloads_total Configuration reloads.\n"
                        "# TYPE switchyard_config_reloads_total counter\n") +
                std::string(kDroppedZero));
}

TEST(Metrics, EmptyRegistryWritesOnlyTheDroppedCounter) {
  Registry registry;
  EXPECT_EQ(text_of(registry), kDroppedZero);
}

TEST(Metrics, EscapesBackslashQuoteAndNewlineInLabelValuesAndHelp) {
  Registry registry;
  const FamilyId id = registry.add(
      {"odd_total", "Line one\nback\\slash \"quoted\".", MetricType::counter, {"value"}});
  registry.shard()->add(id, {"a\\b\"c\nd"});
  EXPECT_EQ(text_of(registry),
            "# HELP odd_total Line one\\nback\\\\slash \"quoted\".\n"
            "# TYPE odd_total counter\n"
            "odd_total{value=\"a\\\\b\\\"c\\nd\"} 1\n" +
                std::string(kDroppedZero));
}

TEST(Metrics, LabelSetsThatConcatenateAlikeStayDistinct) {
  Registry registry;
  const FamilyId id = registry.add({"pairs_total", "Pairs.", MetricType::counter, {"a", "b"}});
  const auto shard = registry.shard();
  shard->add(id, {"ab", ""});
  shard->add(id, {"a", "b"}, 2);
  const std::string text = text_of(registry);
  EXPECT_EQ(sample_value(text, R"(pairs_total{a="a",b="b"})"), 2);
  EXPECT_EQ(sample_value(text, R"(pairs_total{a="ab",b=""})"), 1);
}

TEST(Metrics, ValueEqualToABoundFallsIntoThatBucketAndBucketsAreCumulative) {
  Registry registry;
  const FamilyId id =
      registry.add({"size_bytes", "Sizes.", MetricType::histogram, {}, {10, 100, 1000}});
  const auto shard = registry.shard();
  for (const std::uint64_t value : {0, 10, 11, 100, 1000, 1001}) shard->observe(id, {}, value);
  const std::string text = text_of(registry);
  EXPECT_EQ(sample_value(text, R"(size_bytes_bucket{le="10"})"), 2);
  EXPECT_EQ(sample_value(text, R"(size_bytes_bucket{le="100"})"), 4);
  EXPECT_EQ(sample_value(text, R"(size_bytes_bucket{le="1000"})"), 5);
  EXPECT_EQ(sample_value(text, R"(size_bytes_bucket{le="+Inf"})"), 6);
  EXPECT_EQ(sample_value(text, "size_bytes_sum"), 2122);
  EXPECT_EQ(sample_value(text, "size_bytes_count"), 6);
}

TEST(Metrics, ScaledHistogramShowsMicrosecondsAsSeconds) {
  Registry registry;
  const FamilyId id =
      registry.add({"wait_seconds", "Waits.", MetricType::histogram, {}, {0.001, 0.002}, 1e-6});
  const auto shard = registry.shard();
  shard->observe(id, {}, 1500);
  shard->observe(id, {}, 1000);  // exactly 0.001 s, in spite of 0.001 / 1e-6 not being 1000
  const std::string text = text_of(registry);
  EXPECT_NE(text.find("wait_seconds_bucket{le=\"0.001\"} 1\n"
                      "wait_seconds_bucket{le=\"0.002\"} 2\n"
                      "wait_seconds_bucket{le=\"+Inf\"} 2\n"
                      "wait_seconds_sum 0.0025\n"
                      "wait_seconds_count 2\n"),
            std::string::npos)
      << text;
}

TEST(Metrics, GaugeDeltasAreSummedAcrossShardsAndMayBeNegative) {
  Registry registry;
  const FamilyId id = registry.add({"queue_depth", "Depth.", MetricType::gauge, {}});
  const FamilyId scaled =
      registry.add({"balance_usd", "Balance.", MetricType::gauge, {}, {}, 1e-6});
  const auto first = registry.shard();
  const auto second = registry.shard();
  first->gauge_add(id, {}, 5);
  second->gauge_add(id, {}, -7);
  first->gauge_add(scaled, {}, -2'500'000);
  const std::string text = text_of(registry);
  EXPECT_NE(text.find("\nqueue_depth -2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\nbalance_usd -2.5\n"), std::string::npos) << text;
}

TEST(Metrics, CountersFromTwoThreadsAreSummedPerLabelSet) {
  Registry registry;
  const FamilyId id = registry.add({"hits_total", "Hits.", MetricType::counter, {"who"}});
  std::vector<std::thread> threads;
  for (const std::string_view own : {"t0", "t1"}) {
    threads.emplace_back([&registry, id, own] {
      const auto shard = registry.shard();
      for (int i = 0; i < 1000; ++i) {
        shard->add(id, {"both"});
        shard->add(id, {own}, 2);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  const std::string text = text_of(registry);
  EXPECT_EQ(sample_value(text, R"(hits_total{who="both"})"), 2000);
  EXPECT_EQ(sample_value(text, R"(hits_total{who="t0"})"), 2000);
  EXPECT_EQ(sample_value(text, R"(hits_total{who="t1"})"), 2000);
  EXPECT_EQ(lines_starting_with(text, "hits_total{"), 3u);
}

TEST(Metrics, ScrapingWhileTwoThreadsRecordNeverGoesBackwardsAndEndsExact) {
  SmallRegistry small;
  constexpr int kRounds = 100'000;
  constexpr int kRoutes = 200;  // new series keep appearing while the scraper reads
  std::vector<std::string> routes;
  for (int i = 0; i < kRoutes; ++i) routes.push_back("route" + std::to_string(i));

  std::atomic<int> recording{2};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&] {
      const auto shard = small.registry.shard();
      for (int i = 0; i < kRounds; ++i) {
        shard->gauge_add(small.in_flight, {}, 1);
        shard->add(small.requests, {"chat", "200"});
        shard->add(small.requests, {routes[static_cast<std::size_t>(i % kRoutes)], "200"});
        shard->observe(small.duration, {"chat"}, static_cast<std::uint64_t>(i % 3) * 100'000);
        shard->add(small.cost, {"openai"}, 3);
        shard->gauge_add(small.in_flight, {}, -1);
      }
      --recording;
    });
  }
  std::size_t scrapes = 0;
  double last = 0;
  std::string text;
  while (recording.load() > 0) {
    text.clear();
    small.registry.write(text);
    ++scrapes;
    const double now =
        sample_value(text, R"(switchyard_requests_total{route="chat",status="200"})").value_or(0);
    ASSERT_GE(now, last);
    last = now;
    // Bucket counts and the count are one reading, so they agree in every scrape.
    EXPECT_EQ(
        sample_value(text, R"(switchyard_request_duration_seconds_bucket{route="chat",le="+Inf"})"),
        sample_value(text, R"(switchyard_request_duration_seconds_count{route="chat"})"));
  }
  for (auto& thread : threads) thread.join();

  text = text_of(small.registry);
  EXPECT_EQ(sample_value(text, R"(switchyard_requests_total{route="chat",status="200"})"),
            2 * kRounds);
  EXPECT_EQ(sample_value(text, R"(switchyard_requests_total{route="route7",status="200"})"),
            2 * kRounds / kRoutes);
  EXPECT_EQ(sample_value(text, "switchyard_requests_in_flight"), 0);
  EXPECT_EQ(sample_value(text, R"(switchyard_request_duration_seconds_count{route="chat"})"),
            2 * kRounds);
  int within_bound = 0;  // 0 µs and 100000 µs, which is exactly the 0.1 s bound
  for (int i = 0; i < kRounds; ++i) within_bound += i % 3 != 2;
  EXPECT_EQ(
      sample_value(text, R"(switchyard_request_duration_seconds_bucket{route="chat",le="0.1"})"),
      2 * within_bound);
  EXPECT_EQ(sample_value(text, R"(switchyard_cost_usd_total{provider="openai"})"),
            2 * kRounds * 3 / 1e6);
  EXPECT_GT(scrapes, 0u);
}

TEST(Metrics, TotalsSumAFamilyOverShardsInDisplayedUnits) {
  SmallRegistry small;
  small.record(*small.registry.shard());
  const auto other = small.registry.shard();
  small.record(*other);
  other->add(small.cost, {"anthropic"}, 500'000);

  const std::vector<SeriesTotal> cost = small.registry.totals(small.cost);
  ASSERT_EQ(cost.size(), 2u);
  EXPECT_EQ(cost[0].labels, std::vector<std::string>{"anthropic"});
  EXPECT_DOUBLE_EQ(cost[0].value, 0.5);
  EXPECT_EQ(cost[1].labels, std::vector<std::string>{"openai"});
  EXPECT_DOUBLE_EQ(cost[1].value, 2.469134);

  other->gauge_add(small.in_flight, {}, -10);
  const std::vector<SeriesTotal> in_flight = small.registry.totals(small.in_flight);
  ASSERT_EQ(in_flight.size(), 1u);
  EXPECT_EQ(in_flight[0].value, -6);
  const std::vector<SeriesTotal> duration = small.registry.totals(small.duration);
  ASSERT_EQ(duration.size(), 1u);
  EXPECT_DOUBLE_EQ(duration[0].value, 5.3);  // the sum of the observations
  EXPECT_TRUE(small.registry.totals(small.reloads).empty());
}

TEST(Metrics, ShardWhoseThreadEndedStillCounts) {
  Registry registry;
  const FamilyId id = registry.add({"done_total", "Done.", MetricType::counter, {}});
  std::thread([&] { registry.shard()->add(id, {}, 5); }).join();
  registry.shard()->add(id, {}, 2);
  EXPECT_EQ(sample_value(text_of(registry), "done_total"), 7);
}

TEST(Metrics, SeriesBeyondTheCapAreDroppedAndCounted) {
  Registry registry;
  const FamilyId id = registry.add({"keys_total", "Keys.", MetricType::counter, {"key"}});
  const auto shard = registry.shard();
  std::vector<std::string> keys;
  for (std::size_t i = 0; i < kMaxSeriesPerShard + 10; ++i) keys.push_back(std::to_string(i));
  for (const std::string& key : keys) shard->add(id, {key});
  shard->add(id, {"0"});                 // an existing series still records
  registry.shard()->add(id, {"fresh"});  // the cap is per shard

  const std::string text = text_of(registry);
  EXPECT_EQ(lines_starting_with(text, "keys_total{"), kMaxSeriesPerShard + 1);
  EXPECT_EQ(sample_value(text, R"(keys_total{key="0"})"), 2);
  EXPECT_EQ(sample_value(text, R"(keys_total{key="fresh"})"), 1);
  EXPECT_EQ(sample_value(text, "switchyard_metric_series_dropped_total"), 10);
}

#ifndef SWITCHYARD_NO_ALLOCATION_COUNT
TEST(Metrics, RecordingIntoAnExistingSeriesAllocatesNothing) {
  Registry registry;
  const FamilyId hits =
      registry.add({"hits_total", "Hits.", MetricType::counter, {"route", "status"}});
  const FamilyId depth = registry.add({"depth", "Depth.", MetricType::gauge, {"route"}});
  const FamilyId wait = registry.add(
      {"wait_seconds", "Waits.", MetricType::histogram, {"route"}, {0.01, 0.1, 1}, 1e-6});
  const auto shard = registry.shard();
  const std::string route = "a-route-name-longer-than-the-small-string-buffer";
  const auto record = [&] {
    shard->add(hits, {route, "200"});
    shard->gauge_add(depth, {route}, 1);
    shard->observe(wait, {route}, 20'000);
  };
  const std::size_t first = allocations;
  record();
  ASSERT_GT(allocations, first);  // creating the series does allocate: the count works
  const std::size_t before = allocations;
  for (int i = 0; i < 100; ++i) record();
  EXPECT_EQ(allocations, before);
}
#endif

TEST(Metrics, CallWithTheWrongLabelCountOrTypeIsIgnored) {
  Registry registry;
  const FamilyId id = registry.add({"calls_total", "Calls.", MetricType::counter, {"route"}});
  const auto shard = registry.shard();
  // Asserts in a debug build; ignored in a release build.
  EXPECT_DEBUG_DEATH(shard->add(id, {"a", "b"}), "number of label values");
  EXPECT_DEBUG_DEATH(shard->gauge_add(id, {"a"}, 1), "another type");
  EXPECT_DEBUG_DEATH(shard->add(FamilyId{7}, {"a"}), "");
  EXPECT_EQ(lines_starting_with(text_of(registry), "calls_total"), 0u);
}

TEST(Metrics, MalformedFamiliesAreRejectedAtStartUp) {
  const auto rejects = [](FamilySpec spec) {
    Registry registry;
    registry.add({"taken_total", "Taken.", MetricType::counter, {}});
    EXPECT_THROW(registry.add(spec), std::invalid_argument) << spec.name;
  };
  rejects({"requests", "No _total.", MetricType::counter, {}});
  rejects({"depth_total", "A gauge with _total.", MetricType::gauge, {}});
  rejects({"no_help_total", "", MetricType::counter, {}});
  rejects({"1st_total", "Bad name.", MetricType::counter, {}});
  rejects({"bad_label_total", "Bad label.", MetricType::counter, {"a-b"}});
  rejects({"twice_total", "Same label twice.", MetricType::counter, {"a", "a"}});
  rejects({"le_seconds", "le is the buckets'.", MetricType::histogram, {"le"}, {1}});
  rejects({"down_seconds", "Descending.", MetricType::histogram, {}, {1, 0.5}});
  rejects({"neg_seconds", "Negative bound.", MetricType::histogram, {}, {-1, 1}});
  rejects({"buckets_total", "Buckets on a counter.", MetricType::counter, {}, {1}});
  rejects({"zero_total", "Zero scale.", MetricType::counter, {}, {}, 0});
  rejects({"taken_total", "Duplicate.", MetricType::counter, {}});
  rejects({"switchyard_metric_series_dropped_total", "Reserved.", MetricType::counter, {}});
}

TEST(Metrics, AddingAFamilyAfterTakingAShardIsAnError) {
  Registry registry;
  registry.add({"early_total", "Early.", MetricType::counter, {}});
  const auto shard = registry.shard();
  EXPECT_THROW(registry.add({"late_total", "Late.", MetricType::counter, {}}), std::logic_error);
}

TEST(Metrics, TextWriterFormatsScrapeTimeValuesLikeTheRegistry) {
  std::string out;
  TextWriter writer(out);
  writer.family("switchyard_breaker_open", "1 while the breaker is open.", MetricType::gauge);
  writer.sample({{"provider", "open\"ai"}, {"model", "gpt-4o"}}, 1.0);
  writer.sample({{"provider", "anthropic"}, {"model", "claude"}}, 0.25);
  writer.family("switchyard_reloads_total", "Reloads.", MetricType::counter);
  writer.sample({}, std::uint64_t{18'446'744'073'709'551'615u});
  writer.family("switchyard_headroom", "Headroom.", MetricType::gauge);
  writer.sample({}, 1e-6);
  writer.sample({{"kind", "unbounded"}}, std::numeric_limits<double>::infinity());
  EXPECT_EQ(out,
            "# HELP switchyard_breaker_open 1 while the breaker is open.\n"
            "# TYPE switchyard_breaker_open gauge\n"
            "switchyard_breaker_open{provider=\"open\\\"ai\",model=\"gpt-4o\"} 1\n"
            "switchyard_breaker_open{provider=\"anthropic\",model=\"claude\"} 0.25\n"
            "# HELP switchyard_reloads_total Reloads.\n"
            "# TYPE switchyard_reloads_total counter\n"
            "switchyard_reloads_total 18446744073709551615\n"
            "# HELP switchyard_headroom Headroom.\n"
            "# TYPE switchyard_headroom gauge\n"
            "switchyard_headroom 1e-06\n"
            "switchyard_headroom{kind=\"unbounded\"} +Inf\n");
}

TEST(Metrics, PromtoolAcceptsTheOutput) {
  if (std::system("command -v promtool >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "promtool is not on PATH";
  }
  SmallRegistry small;
  small.record(*small.registry.shard());
  small.record(*small.registry.shard());
  std::string text = text_of(small.registry);
  TextWriter writer(text);
  writer.family("switchyard_breaker_state", "0 closed, 1 half-open, 2 open.", MetricType::gauge);
  writer.sample({{"provider", "openai"}}, std::uint64_t{2});
  writer.family("switchyard_redis_errors_total", "Redis errors.", MetricType::counter);
  writer.sample({}, std::uint64_t{0});

  std::string path = (fs::temp_directory_path() / "switchyard-metrics-XXXXXX").string();
  const int fd = ::mkstemp(path.data());
  ASSERT_GE(fd, 0);
  ::close(fd);
  std::ofstream(path, std::ios::binary) << text;

  const std::string command = "promtool check metrics < '" + path + "' 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buffer[256];
  while (const std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
  const int status = ::pclose(pipe);
  fs::remove(path);

  EXPECT_EQ(status, 0) << output;
  EXPECT_EQ(output, "") << text;
}

}  // namespace
}  // namespace switchyard::telemetry
