#include "switchyard/state/ledger.hpp"

namespace switchyard::state {

Ledger::Ledger(const config::Config& config) {
  routes_.reserve(config.routes.size());
  for (const auto& r : config.routes) routes_.push_back(std::make_unique<SpendWindows>(r.budget));
  keys_.reserve(config.keys.size());
  for (const auto& k : config.keys) keys_.push_back(std::make_unique<KeyQuota>(k));
}

Ledger::~Ledger() = default;

}  // namespace switchyard::state
