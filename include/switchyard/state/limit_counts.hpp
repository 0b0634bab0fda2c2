// What the gateway counts against the operator's limits: spend per route and per gateway key over
// rolling windows, and each key's requests and tokens per minute. Shared by every worker through
// atomics only. Process-local: nothing survives a restart, and replicas do not see each other's
// counts until a shared (Redis) limit_counts takes this one's place.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "switchyard/config/config.hpp"
#include "switchyard/state/rate_limiter.hpp"
#include "switchyard/state/spend_windows.hpp"

namespace switchyard::state {

struct KeyCounts {
  explicit KeyCounts(const config::GatewayKey& key)
      : budget(key.budget), requests(key.rpm), tokens(key.tpm) {}
  SpendWindows budget;
  RateLimiter requests;  // rpm
  RateLimiter tokens;    // tpm
};

class LimitCounts {
 public:
  // Takes over `previous`'s counts of each route and key of the same name: shared outright when
  // defined the same, else the spend carries into the new caps and the rate limits start afresh.
  LimitCounts(const config::Config& config, const LimitCounts* previous);
  ~LimitCounts();

  // The spend of the route at `route_index` in Config::routes (routing::Route::budget_index).
  SpendWindows& route(std::size_t route_index) { return *routes_[route_index]; }
  // The quota of the key at `key_index` in Config::keys.
  KeyCounts& key(std::size_t key_index) { return *keys_[key_index]; }

 private:
  std::vector<std::string> route_names_, key_names_;  // by index, as `previous` looks them up
  std::vector<std::shared_ptr<SpendWindows>> routes_;
  std::vector<std::shared_ptr<KeyCounts>> keys_;
};

}  // namespace switchyard::state
