// Prometheus metrics: counters, gauges and histograms recorded on the per-request path without a
// lock, and their text exposition (format 0.0.4) for a scraper.
//
// Threading contract: one Registry per process, built at start-up; every family is added before
// the first shard is taken. Each worker thread takes its own WorkerMetrics and is the only thread
// that records into it: recording takes no lock and, once a series exists, allocates nothing. Once
// the families are added, any thread may call Registry::write, concurrently with recording; it
// sums every shard, including those whose thread has ended, so counters never go backwards. The
// Registry must outlive all recording into its shards.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace switchyard::telemetry {

enum class MetricType { counter, gauge, histogram };

struct FamilySpec {
  std::string name;  // counters end in `_total`, others must not (promtool's lint)
  std::string help;
  MetricType type = MetricType::counter;
  std::vector<std::string> labels;  // label names; every recording passes one value per name
  // Histogram upper bounds in displayed units, ascending, non-negative; +Inf is implicit.
  std::vector<double> buckets;
  // Displayed value = stored integer * scale: 1e-6 to store microseconds and show seconds, or to
  // store micro-USD and show USD. Histogram bounds are compared in displayed units.
  double scale = 1;
};

// A family's handle, valid only with the registry that returned it.
struct FamilyId {
  std::uint32_t index = 0;
};

// Series a shard holds at most; recordings that would create more are counted as dropped
// (switchyard_metric_series_dropped_total) instead. Bounds memory when a label value is
// unbounded by mistake (a client-chosen model name, say).
inline constexpr std::size_t kMaxSeriesPerShard = 4096;

namespace detail {
struct Family;
struct ShardState;
}  // namespace detail

// One thread's series. Recording calls ignore (and assert in debug builds) a family of the
// wrong type or a label value count that differs from the family's label names.
class WorkerMetrics {
 public:
  ~WorkerMetrics();
  WorkerMetrics(const WorkerMetrics&) = delete;
  WorkerMetrics& operator=(const WorkerMetrics&) = delete;

  // Counters, in stored units.
  void add(FamilyId family, std::initializer_list<std::string_view> label_values,
           std::uint64_t n = 1);
  // Gauges: each shard holds its own delta and the scrape sums them, so a thread that increments
  // must be the one that decrements (in-flight requests on a worker).
  void gauge_add(FamilyId family, std::initializer_list<std::string_view> label_values,
                 std::int64_t delta);
  // Histograms, value in stored units.
  void observe(FamilyId family, std::initializer_list<std::string_view> label_values,
               std::uint64_t value);

 private:
  friend class Registry;
  explicit WorkerMetrics(const std::vector<detail::Family>& families);

  std::unique_ptr<detail::ShardState> state_;
};

// One series of a family summed over all shards, in displayed units.
struct SeriesTotal {
  std::vector<std::string> labels;  // label values, in the order of the family's label names
  double value = 0;                 // a histogram's is the sum of its observations
};

class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Throws std::invalid_argument for a malformed spec (names, bounds, duplicate) and
  // std::logic_error once a shard has been taken.
  FamilyId add(FamilySpec spec);
  // A new shard for the calling thread, kept for scraping for the registry's lifetime.
  std::shared_ptr<WorkerMetrics> shard();
  // Appends every family in the order added, each series summed over all shards and sorted by
  // label values, then switchyard_metric_series_dropped_total.
  void write(std::string& out) const;
  // A family's series summed over all shards, sorted by label values: for the admin API's
  // figures (spend so far), which read the same numbers as the scraper.
  std::vector<SeriesTotal> totals(FamilyId family) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Writes metrics computed at scrape time (breaker states, health, reload counts) in the same
// format as Registry::write. Counters and gauges only.
class TextWriter {
 public:
  explicit TextWriter(std::string& out) : out_(out) {}

  // Starts a family; its samples follow. A counter's name ends in `_total`.
  void family(std::string_view name, std::string_view help, MetricType type);
  void sample(std::initializer_list<std::pair<std::string_view, std::string_view>> labels,
              double value);
  void sample(std::initializer_list<std::pair<std::string_view, std::string_view>> labels,
              std::uint64_t value);

 private:
  std::string& out_;
  std::string name_;
};

}  // namespace switchyard::telemetry
