// The `log:`, `metrics:` and `tracing:` sections: what the gateway tells its operators, and where.
#include <array>

#include "sections.hpp"

namespace switchyard::config {
namespace {

constexpr std::array<std::string_view, 4> kLogKeys{"level", "requests", "format", "file"};
constexpr std::array<std::string_view, 6> kLogLevels{"trace", "debug", "info",
                                                     "warn",  "error", "off"};
constexpr std::array<std::string_view, 2> kLogFormats{"json", "text"};
constexpr std::array<std::string_view, 1> kMetricsKeys{"enabled"};
constexpr std::array<std::string_view, 10> kTracingKeys{
    "endpoint", "sample",   "headers", "ca_file",      "max_queue",
    "batch",    "interval", "timeout", "service_name", "enabled",
};
// Beyond these a value is a typo: a million queued spans is a gigabyte.
constexpr std::uint64_t kMaxQueuedSpans = 1'000'000;
constexpr std::uint64_t kMaxBatchSpans = 10'000;

}  // namespace

void read_log(NodeReader& reader, const Entry& entry, Log& log) {
  const auto section = reader.section(entry, kLogKeys);
  if (!section) return;
  for (const Entry& e : section->entries) {
    if (e.key == "level") {
      if (const auto level = reader.choice(e, kLogLevels)) log.level = kLogLevels[*level];
    } else if (e.key == "requests") {
      assign(log.requests, reader.boolean(e));
    } else if (e.key == "format") {
      if (const auto format = reader.choice(e, kLogFormats)) log.format = Log::Format(*format);
    } else if (e.key == "file") {
      assign(log.file, reader.text(e));
    }
  }
}

void read_metrics(NodeReader& reader, const Entry& entry, Metrics& metrics) {
  const auto section = reader.section(entry, kMetricsKeys);
  if (!section) return;
  if (const Entry* e = section->find("enabled")) assign(metrics.enabled, reader.boolean(*e));
}

void read_tracing(NodeReader& reader, const Entry& entry, const std::filesystem::path& base_dir,
                  Tracing& tracing) {
  tracing.enabled = true;
  const auto section = reader.section(entry, kTracingKeys);
  if (!section || !reader.require(*section, "endpoint")) return;
  for (const Entry& e : section->entries) {
    if (e.key == "enabled") {
      assign(tracing.enabled, reader.boolean(e));
    } else if (e.key == "endpoint") {
      const auto text = reader.text(e);
      const auto url = text ? parse_url(*text) : Result<Url>(Url{});
      if (!url) {
        reader.error(e.value_position(), e.path + ": " + url.error());
      } else {
        assign(tracing.endpoint, text);
      }
    } else if (e.key == "sample") {
      assign(tracing.sample, reader.fraction(e, Zero::allowed));
    } else if (e.key == "headers") {
      const auto headers = reader.section(e, kAnyName);
      if (!headers) continue;
      for (const Entry& h : headers->entries) {
        // Usually a collector's credentials: never quoted back.
        if (auto value = reader.text(h, /*secret=*/true))
          tracing.headers.emplace_back(h.key, std::move(*value));
      }
    } else if (e.key == "ca_file") {
      assign(tracing.ca_file, read_file_path(reader, e, base_dir));
    } else if (e.key == "max_queue") {
      assign(tracing.max_queue, reader.integer(e, 1, kMaxQueuedSpans));
    } else if (e.key == "batch") {
      assign(tracing.batch, reader.integer(e, 1, kMaxBatchSpans));
    } else if (e.key == "interval") {
      assign(tracing.interval, reader.duration(e, Zero::rejected));
    } else if (e.key == "timeout") {
      assign(tracing.timeout, reader.duration(e, Zero::rejected));
    } else if (e.key == "service_name") {
      assign(tracing.service_name, reader.text(e));
    }
  }
}

}  // namespace switchyard::config
