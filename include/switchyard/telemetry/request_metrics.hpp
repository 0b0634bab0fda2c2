// The metrics every request leaves: its families, defined once per process in the Registry, and
// the recording of a finished request's record into its worker's WorkerMetrics (no lock, no
// allocation once its series exist). Labels are names from the config and small fixed sets only:
// never a request id, a key or a model name the client made up.
#pragma once

#include "switchyard/telemetry/metrics.hpp"
#include "switchyard/telemetry/request_log.hpp"
#include "switchyard/telemetry/spend_totals.hpp"

namespace switchyard::telemetry {

class RequestMetrics {
 public:
  explicit RequestMetrics(Registry& registry);

  // A request began on this shard's thread (and, when `stream`, a stream).
  void started(WorkerMetrics& shard) const;
  void stream_started(WorkerMetrics& shard) const;
  // ... and ended: everything its record says.
  void finished(WorkerMetrics& shard, const RequestRecord& r) const;

  // Spend since start, from every worker's cost counters.
  SpendTotals spend(const Registry& registry) const;

 private:
  void finished_mcp(WorkerMetrics& shard, const RequestRecord& r, std::uint64_t micros) const;

  FamilyId requests_, duration_, first_token_, overhead_, tokens_, cost_, attempts_, cache_,
      rejections_, in_flight_, streams_, mcp_requests_, mcp_duration_, mcp_tool_calls_;
};

}  // namespace switchyard::telemetry
