#include "switchyard/telemetry/metrics.hpp"

#include "exposition.hpp"
#include "switchyard/telemetry/single_writer_counter.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cassert>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <mutex>
#include <stdexcept>
#include <unordered_map>

namespace switchyard::telemetry {

namespace {

constexpr std::string_view kDroppedName = "switchyard_metric_series_dropped_total";

// The shard's owner is its only writer, the scraper only ever loads: a SingleWriterCounter.
using Cell = SingleWriterCounter;

}  // namespace

namespace detail {

struct Family {
  std::string name;
  std::string help;
  MetricType type = MetricType::counter;
  std::vector<std::string> labels;
  std::vector<double> buckets;  // displayed units, for `le`
  // Stored units: a value v falls in the first bucket i with v <= bounds[i], else in +Inf.
  std::vector<std::uint64_t> bounds;
  double scale = 1;
  // 1/scale when that is an integer: dividing by it rounds once, so 1500 µs reads 0.0015 rather
  // than the 0.0015000000000000002 that multiplying by 1e-6 gives.
  double divisor = 0;
  std::size_t cells = 1;  // counter, gauge: the value; histogram: each bucket, +Inf, then the sum
};

struct Series {
  std::uint32_t family = 0;
  std::vector<std::string> label_values;
  std::unique_ptr<Cell[]> cells;
};

struct ShardState {
  explicit ShardState(const std::vector<Family>& all_families)
      : families(all_families),
        series(std::make_unique<std::unique_ptr<Series>[]>(kMaxSeriesPerShard)) {}

  // The family of a recording, or null (asserting in debug builds) for a misuse.
  const Family* family(FamilyId id, MetricType type, std::size_t label_count) const {
    const bool ok = id.index < families.size() && families[id.index].type == type &&
                    families[id.index].labels.size() == label_count;
    assert(ok && "metric family of another type or with another number of label values");
    return ok ? &families[id.index] : nullptr;
  }

  Series* find_or_create(FamilyId id, const Family& fam,
                         std::initializer_list<std::string_view> label_values) {
    // A worker records the same few series as last time for most requests (one route, one
    // model; input and output tokens): compared before a key is built and hashed, which cost
    // 180 instructions a lookup.
    if (id.index >= recent.size()) recent.resize(id.index + 1);
    auto& last = recent[id.index];
    for (Series* s : last) {
      if (s != nullptr && std::equal(label_values.begin(), label_values.end(),
                                     s->label_values.begin(), s->label_values.end())) {
        return s;
      }
    }
    Series* found = find_or_create_keyed(id, fam, label_values);
    last[1] = last[0];
    last[0] = found;
    return found;
  }

  Series* find_or_create_keyed(FamilyId id, const Family& fam,
                               std::initializer_list<std::string_view> label_values) {
    // Length-prefixed values, so that no choice of values makes two label sets collide.
    key.clear();
    key.append(reinterpret_cast<const char*>(&id.index), sizeof id.index);
    for (const std::string_view value : label_values) {
      const auto size = static_cast<std::uint32_t>(value.size());
      key.append(reinterpret_cast<const char*>(&size), sizeof size);
      key.append(value);
    }
    if (const auto it = index.find(key); it != index.end()) return it->second;

    const std::size_t count = published.load(std::memory_order_relaxed);
    if (count == kMaxSeriesPerShard) {
      dropped.add(1);
      return nullptr;
    }
    auto created = std::make_unique<Series>();
    created->family = id.index;
    created->label_values.assign(label_values.begin(), label_values.end());
    created->cells = std::make_unique<Cell[]>(fam.cells);  // value-initialised: zero
    Series* raw = created.get();
    series[count] = std::move(created);
    // Publishes the series' label values and the slot to the scraper's acquire load.
    published.store(count + 1, std::memory_order_release);
    index.emplace(key, raw);
    return raw;
  }

  const std::vector<Family>& families;
  // Fixed capacity so that the slots never move: the scraper reads [0, published) while the
  // owner fills the slot after it.
  std::unique_ptr<std::unique_ptr<Series>[]> series;
  std::atomic<std::size_t> published{0};
  Cell dropped;

  // The owner's alone.
  std::unordered_map<std::string, Series*> index;
  std::string key;  // reused so that a lookup allocates nothing once it has grown
  std::vector<std::array<Series*, 2>> recent;  // by family: the two series recorded last
};

}  // namespace detail

namespace {

using detail::Family;

// A stored sum in displayed units. Gauge deltas were summed modulo 2^64, so a gauge's two's
// complement reading is its signed total.
double displayed(const Family& family, std::uint64_t stored) {
  const double value = family.type == MetricType::gauge
                           ? static_cast<double>(static_cast<std::int64_t>(stored))
                           : static_cast<double>(stored);
  return family.divisor > 0 ? value / family.divisor : value * family.scale;
}

// Integers exactly when unscaled.
void append_value(std::string& out, const Family& family, std::uint64_t stored) {
  if (family.scale != 1) {
    append_double(out, displayed(family, stored));
  } else if (family.type == MetricType::gauge) {
    append_integer(out, static_cast<std::int64_t>(stored));
  } else {
    append_integer(out, stored);
  }
}

bool valid_name(std::string_view name, bool colon_allowed) {
  const auto valid = [&](char c, bool first) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
           (c == ':' && colon_allowed) || (!first && c >= '0' && c <= '9');
  };
  if (name.empty() || !valid(name.front(), true)) return false;
  return std::all_of(name.begin() + 1, name.end(), [&](char c) { return valid(c, false); });
}

void check(bool ok, const std::string& name, std::string_view problem) {
  if (!ok) throw std::invalid_argument("metric family '" + name + "': " + std::string(problem));
}

// A bound in stored units: the largest integer v with v * scale <= bound. A bound that is a
// whole number of stored units up to rounding error (0.001 s = 1000 µs) is that number, so that
// a value equal to a bound falls into its bucket.
std::uint64_t stored_bound(const Family& family, double bound) {
  const double units = family.divisor > 0 ? bound * family.divisor : bound / family.scale;
  if (units >= 0x1p64) return std::numeric_limits<std::uint64_t>::max();
  const double nearest = std::nearbyint(units);
  if (std::abs(units - nearest) <= 1e-9 * std::max(1.0, nearest)) {
    return static_cast<std::uint64_t>(nearest);
  }
  return static_cast<std::uint64_t>(std::floor(units));
}

Family make_family(FamilySpec spec) {
  const std::string& name = spec.name;
  check(valid_name(name, true), name, "invalid metric name");
  check(!spec.help.empty(), name, "HELP text required");
  const bool total = name.ends_with("_total");
  check(total == (spec.type == MetricType::counter), name,
        "counters, and only counters, have names ending in _total");
  for (std::size_t i = 0; i < spec.labels.size(); ++i) {
    const std::string& label = spec.labels[i];
    check(valid_name(label, false) && !label.starts_with("__"), name, "invalid label name");
    check(std::find(spec.labels.begin(), spec.labels.begin() + i, label) == spec.labels.begin() + i,
          name, "duplicate label name");
    check(!(spec.type == MetricType::histogram && label == "le"), name,
          "a histogram's label 'le' is its buckets'");
  }
  check(std::isfinite(spec.scale) && spec.scale > 0, name, "scale must be positive");
  check(spec.type == MetricType::histogram || spec.buckets.empty(), name,
        "buckets are for histograms");
  for (std::size_t i = 0; i < spec.buckets.size(); ++i) {
    check(std::isfinite(spec.buckets[i]) && spec.buckets[i] >= 0, name,
          "bucket bounds must be finite and non-negative");
    check(i == 0 || spec.buckets[i - 1] < spec.buckets[i], name, "bucket bounds must be ascending");
  }

  Family family;
  const double inverse = 1 / spec.scale;
  if (inverse >= 1 && inverse < 0x1p53 && std::nearbyint(inverse) == inverse) {
    family.divisor = inverse;
  }
  family.scale = spec.scale;
  family.type = spec.type;
  for (const double bound : spec.buckets) family.bounds.push_back(stored_bound(family, bound));
  family.cells = spec.type == MetricType::histogram ? spec.buckets.size() + 2 : 1;
  family.name = std::move(spec.name);
  family.help = std::move(spec.help);
  family.labels = std::move(spec.labels);
  family.buckets = std::move(spec.buckets);
  return family;
}

// One family's series summed over the shards, ordered by label values.
using MergedSeries = std::map<std::vector<std::string_view>, std::vector<std::uint64_t>>;

void append_series(std::string& out, const Family& family, const MergedSeries& merged) {
  for (const auto& entry : merged) {
    const std::vector<std::string_view>& values = entry.first;
    const std::vector<std::uint64_t>& cells = entry.second;
    const auto start = [&](std::string_view suffix) {
      SampleLine line(out, family.name, suffix);
      for (std::size_t i = 0; i < values.size(); ++i) line.label(family.labels[i], values[i]);
      return line;
    };
    switch (family.type) {
      case MetricType::counter:
      case MetricType::gauge: {
        auto line = start({});
        append_value(line.value(), family, cells[0]);
        line.end();
        break;
      }
      case MetricType::histogram: {
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i <= family.buckets.size(); ++i) {
          cumulative += cells[i];
          auto line = start("_bucket");
          std::string le;
          if (i < family.buckets.size()) {
            append_double(le, family.buckets[i]);
          } else {
            le = "+Inf";
          }
          line.label("le", le);
          append_integer(line.value(), cumulative);
          line.end();
        }
        auto sum = start("_sum");
        append_value(sum.value(), family, cells[family.buckets.size() + 1]);
        sum.end();
        auto count = start("_count");
        append_integer(count.value(), cumulative);
        count.end();
        break;
      }
    }
  }
}

}  // namespace

// ---- WorkerMetrics ----

WorkerMetrics::WorkerMetrics(const std::vector<detail::Family>& families)
    : state_(std::make_unique<detail::ShardState>(families)) {}

WorkerMetrics::~WorkerMetrics() = default;

void WorkerMetrics::add(FamilyId family, std::initializer_list<std::string_view> label_values,
                        std::uint64_t n) {
  const Family* fam = state_->family(family, MetricType::counter, label_values.size());
  if (fam == nullptr) return;
  if (detail::Series* series = state_->find_or_create(family, *fam, label_values)) {
    series->cells[0].add(n);
  }
}

void WorkerMetrics::gauge_add(FamilyId family, std::initializer_list<std::string_view> label_values,
                              std::int64_t delta) {
  const Family* fam = state_->family(family, MetricType::gauge, label_values.size());
  if (fam == nullptr) return;
  if (detail::Series* series = state_->find_or_create(family, *fam, label_values)) {
    series->cells[0].add(static_cast<std::uint64_t>(delta));  // modulo 2^64, see displayed()
  }
}

void WorkerMetrics::observe(FamilyId family, std::initializer_list<std::string_view> label_values,
                            std::uint64_t value) {
  const Family* fam = state_->family(family, MetricType::histogram, label_values.size());
  if (fam == nullptr) return;
  if (detail::Series* series = state_->find_or_create(family, *fam, label_values)) {
    const auto bucket = static_cast<std::size_t>(
        std::lower_bound(fam->bounds.begin(), fam->bounds.end(), value) - fam->bounds.begin());
    series->cells[bucket].add(1);
    series->cells[fam->bounds.size() + 1].add(value);
  }
}

// ---- Registry ----

namespace detail {

// Every family's series summed over the shards. Holds the shards, whose series' label values the
// sums are keyed by.
struct ShardSums {
  std::vector<std::shared_ptr<WorkerMetrics>> shards;
  std::vector<MergedSeries> by_family;
  std::uint64_t dropped = 0;
};

}  // namespace detail

struct Registry::Impl {
  detail::ShardSums sum_shards() const;

  // Frozen once the first shard is taken: shards hold a reference to it.
  std::vector<detail::Family> families;
  // Guards `shards`, which changes when a thread starts; never taken when recording.
  mutable std::mutex mutex;
  std::vector<std::shared_ptr<WorkerMetrics>> shards;
};

Registry::Registry() : impl_(std::make_unique<Impl>()) {}

Registry::~Registry() = default;

FamilyId Registry::add(FamilySpec spec) {
  {
    const std::lock_guard lock(impl_->mutex);
    if (!impl_->shards.empty()) {
      throw std::logic_error("metric family '" + spec.name + "' added after a shard was taken");
    }
  }
  Family family = make_family(std::move(spec));
  const bool taken = family.name == kDroppedName ||
                     std::any_of(impl_->families.begin(), impl_->families.end(),
                                 [&](const Family& f) { return f.name == family.name; });
  check(!taken, family.name, "name already registered");
  impl_->families.push_back(std::move(family));
  return FamilyId{static_cast<std::uint32_t>(impl_->families.size() - 1)};
}

std::shared_ptr<WorkerMetrics> Registry::shard() {
  std::shared_ptr<WorkerMetrics> created(
      new WorkerMetrics(impl_->families));  // the constructor is private
  const std::lock_guard lock(impl_->mutex);
  impl_->shards.push_back(created);
  return created;
}

detail::ShardSums Registry::Impl::sum_shards() const {
  detail::ShardSums sums;
  {
    const std::lock_guard lock(mutex);
    sums.shards = shards;
  }
  sums.by_family.resize(families.size());
  for (const auto& shard : sums.shards) {
    const detail::ShardState& state = *shard->state_;
    const std::size_t count = state.published.load(std::memory_order_acquire);
    for (std::size_t i = 0; i < count; ++i) {
      const detail::Series& series = *state.series[i];
      const Family& family = families[series.family];
      std::vector<std::string_view> values(series.label_values.begin(), series.label_values.end());
      auto& cells = sums.by_family[series.family][std::move(values)];
      cells.resize(family.cells);
      // Modulo 2^64, which is also how signed gauge deltas add up.
      for (std::size_t c = 0; c < family.cells; ++c) {
        cells[c] += series.cells[c].load();
      }
    }
    sums.dropped += state.dropped.load();
  }
  return sums;
}

void Registry::write(std::string& out) const {
  const detail::ShardSums sums = impl_->sum_shards();
  const std::vector<Family>& families = impl_->families;
  for (std::size_t f = 0; f < families.size(); ++f) {
    append_family_header(out, families[f].name, families[f].help, families[f].type);
    append_series(out, families[f], sums.by_family[f]);
  }
  TextWriter writer(out);
  writer.family(kDroppedName,
                "Metric series not recorded because their shard held its maximum already.",
                MetricType::counter);
  writer.sample({}, sums.dropped);
}

std::vector<SeriesTotal> Registry::totals(FamilyId id) const {
  std::vector<SeriesTotal> result;
  if (id.index >= impl_->families.size()) return result;
  const Family& family = impl_->families[id.index];
  const detail::ShardSums sums = impl_->sum_shards();
  for (const auto& [values, cells] : sums.by_family[id.index]) {
    SeriesTotal& total = result.emplace_back();
    total.labels.assign(values.begin(), values.end());
    total.value = displayed(
        family, family.type == MetricType::histogram ? cells[family.buckets.size() + 1] : cells[0]);
  }
  return result;
}

}  // namespace switchyard::telemetry
