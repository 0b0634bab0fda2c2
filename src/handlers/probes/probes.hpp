// GET /healthz and /readyz: liveness (the process answers) and readiness (it should get traffic:
// not draining, and some provider passes its health check).
#pragma once

#include "switchyard/handlers/handler.hpp"
#include "switchyard/handlers/services.hpp"

namespace switchyard::handlers {

class Liveness final : public Handler {
 public:
  static constexpr std::string_view kName = "probe";
  Awaitable<void> handle(request::Context& request) override;
};

class Readiness final : public Handler {
 public:
  static constexpr std::string_view kName = "probe";
  explicit Readiness(const Services& services) : services_(services) {}
  Awaitable<void> handle(request::Context& request) override;

 private:
  const Services& services_;
};

}  // namespace switchyard::handlers
