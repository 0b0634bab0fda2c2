// The admin API (keys with `admin: true` only, when keys are configured):
//   GET  /admin/{health,config,routes,spend,cache}  read-only views (no secrets);
//   POST /admin/explain                             the route and plan for a chat body, dry;
//   POST /admin/reload, GET /admin/reload           reload the configuration / how it went.
#pragma once

#include "../inference/inference.hpp"
#include "switchyard/handlers/handler.hpp"
#include "switchyard/handlers/services.hpp"

namespace switchyard::handlers {

class AdminView final : public Handler {
 public:
  static constexpr std::string_view kName = "admin";
  enum class What { health, config, routes, spend, cache };
  AdminView(const Services& services, What what) : services_(services), what_(what) {}
  Awaitable<void> handle(request::Context& request) override;

 private:
  std::string json() const;
  std::string config_json() const;
  std::string spend_json() const;
  std::string cache_json() const;
  std::string health_json(std::chrono::steady_clock::time_point now) const;

  const Services& services_;
  What what_;
};

// What the gateway would do with a chat body — the route that would serve it and why
// (complexity signals and verdict, budgets on the way), and the plan of targets with the state
// that ordered it (breakers, health, rate limits) — without calling any upstream, the external
// classifier included.
class Explain final : public Handler {
 public:
  static constexpr std::string_view kName = "admin";
  explicit Explain(Services& services) : services_(services), inference_(services) {}
  Awaitable<void> handle(request::Context& request) override;

 private:
  Services& services_;
  Inference inference_;
};

class Reload final : public Handler {
 public:
  static constexpr std::string_view kName = "admin";
  explicit Reload(const Services& services) : services_(services) {}
  Awaitable<void> handle(request::Context& request) override;

 private:
  const Services& services_;
};

}  // namespace switchyard::handlers
