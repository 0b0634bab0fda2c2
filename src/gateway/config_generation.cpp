#include "switchyard/gateway/config_generation.hpp"

namespace switchyard::gateway {

std::shared_ptr<const ConfigGeneration> ConfigGeneration::build(
    std::shared_ptr<const config::Config> config, const ConfigGeneration* previous) {
  auto next = std::make_shared<ConfigGeneration>();
  next->config = std::move(config);
  next->routes = std::make_shared<const routing::RouteTable>(next->config);
  next->board = std::make_shared<dispatch::HealthBoard>(next->routes,
                                                        previous ? previous->board.get() : nullptr);
  next->limit_counts = std::make_shared<state::LimitCounts>(
      *next->config, previous ? previous->limit_counts.get() : nullptr);
  next->generation = previous ? previous->generation + 1 : 1;
  return next;
}

}  // namespace switchyard::gateway
