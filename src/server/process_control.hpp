// The process as the gateways see it (handlers::Control): reloads go to the Reloader, and the
// counts that belong to no one generation — every worker's metrics shard, its Redis client and
// cache backend, reloads, trace export, open connections, the log's drops — are summed here for
// /metrics and the admin API. Everything read is atomic: any worker may ask at any time.
#pragma once

#include <atomic>
#include <memory>
#include <vector>

#include "reloader.hpp"
#include "switchyard/cache/store.hpp"
#include "switchyard/gateway/gateway.hpp"

namespace switchyard::telemetry {
class Registry;
class RequestMetrics;
class SpanExporter;
}  // namespace switchyard::telemetry
namespace switchyard::mcp {
class Hub;
}

namespace switchyard::server {

class Worker;

class ProcessControl final : public handlers::Control {
 public:
  // `workers` is filled before any worker runs and not changed after.
  ProcessControl(Reloader& reloader, const std::vector<std::unique_ptr<Worker>>& workers,
                 const telemetry::Registry& registry,
                 const telemetry::RequestMetrics& request_metrics,
                 const telemetry::SpanExporter* exporter,
                 const std::atomic<std::size_t>& open_connections, const mcp::Hub& mcp)
      : reloader_(reloader),
        workers_(workers),
        registry_(registry),
        request_metrics_(request_metrics),
        exporter_(exporter),
        open_connections_(open_connections),
        mcp_(mcp) {}

  Awaitable<Outcome> reload() override { return reloader_.reload(); }
  std::string reload_status() const override { return reloader_.reload_status(); }
  void write_metrics(std::string& out) const override;
  cache::Store::Stats cache_totals() const override;
  telemetry::SpendTotals spend() const override;

 private:
  Reloader& reloader_;
  const std::vector<std::unique_ptr<Worker>>& workers_;
  const telemetry::Registry& registry_;
  const telemetry::RequestMetrics& request_metrics_;
  const telemetry::SpanExporter* exporter_;
  const std::atomic<std::size_t>& open_connections_;
  const mcp::Hub& mcp_;
};

}  // namespace switchyard::server
