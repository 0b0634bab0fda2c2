// One configuration generation: a validated Config and everything every worker shares that is
// built from it — the route table, the health board and the spend limit_counts. Immutable once
// built (the board and limit_counts hold atomics). A reload builds the next one beside it; requests
// that started on the old one finish on it, and it goes away with the last of them.
#pragma once

#include <cstdint>
#include <memory>

#include "switchyard/config/config.hpp"
#include "switchyard/dispatch/health_board.hpp"
#include "switchyard/routing/route_table.hpp"
#include "switchyard/state/limit_counts.hpp"

namespace switchyard::gateway {

struct ConfigGeneration {
  std::shared_ptr<const config::Config> config;
  std::shared_ptr<const routing::RouteTable> routes;
  std::shared_ptr<dispatch::HealthBoard> board;
  std::shared_ptr<state::LimitCounts> limit_counts;
  std::uint64_t generation = 1;  // counts reloads: 1 for the config loaded at start

  // The generation for `config`. What `previous` knew about things that did not change — a
  // target's breaker and latency window, a provider's health and rate limits, a route's or key's
  // spend — carries over, so a reload forgets nothing but what it removed or redefined.
  static std::shared_ptr<const ConfigGeneration> build(std::shared_ptr<const config::Config> config,
                                                       const ConfigGeneration* previous);
};

}  // namespace switchyard::gateway
