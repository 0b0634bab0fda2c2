#include "switchyard/state/limit_counts.hpp"

#include <algorithm>
#include <optional>

namespace switchyard::state {

namespace {

// Where `names` has `name`.
std::optional<std::size_t> find(const std::vector<std::string>& names, const std::string& name) {
  const auto at = std::find(names.begin(), names.end(), name);
  if (at == names.end()) return std::nullopt;
  return static_cast<std::size_t>(at - names.begin());
}

}  // namespace

LimitCounts::LimitCounts(const config::Config& config, const LimitCounts* previous) {
  for (const auto& r : config.routes) {
    const auto old = previous ? find(previous->route_names_, r.name) : std::nullopt;
    if (old && previous->routes_[*old]->caps() == r.budget.usd) {
      routes_.push_back(previous->routes_[*old]);
    } else {
      routes_.push_back(std::make_shared<SpendWindows>(r.budget));
      if (old) routes_.back()->absorb(*previous->routes_[*old]);
    }
    route_names_.push_back(r.name);
  }
  for (const auto& k : config.keys) {
    const auto old = previous ? find(previous->key_names_, k.name) : std::nullopt;
    const KeyCounts* was = old ? previous->keys_[*old].get() : nullptr;
    if (was && was->budget.caps() == k.budget.usd && was->requests.limit() == k.rpm &&
        was->tokens.limit() == k.tpm) {
      keys_.push_back(previous->keys_[*old]);
    } else {
      keys_.push_back(std::make_shared<KeyCounts>(k));
      if (was) keys_.back()->budget.absorb(was->budget);
    }
    key_names_.push_back(k.name);
  }
}

LimitCounts::~LimitCounts() = default;

}  // namespace switchyard::state
