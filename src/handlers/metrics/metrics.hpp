// GET /metrics: the process's metrics in Prometheus text format (every worker's requests,
// reloads, Redis, the cache, trace export, connections, the log), then this generation's own
// (dispatch counters, breakers, provider health).
#pragma once

#include "switchyard/handlers/handler.hpp"
#include "switchyard/handlers/services.hpp"

namespace switchyard::handlers {

class Metrics final : public Handler {
 public:
  static constexpr std::string_view kName = "metrics";
  explicit Metrics(const Services& services) : services_(services) {}
  Awaitable<void> handle(request::Context& request) override;

 private:
  std::string text() const;
  const Services& services_;
};

}  // namespace switchyard::handlers
