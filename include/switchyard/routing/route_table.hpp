// The routing view of a Config: every name a client may put in `model` (a route, or a model
// alias standing for a one-target route) resolved to its ordered targets, with what forwarding
// needs precomputed. Immutable and shared by all workers.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "switchyard/api/error.hpp"
#include "switchyard/config/config.hpp"

namespace switchyard::providers {
class Adapter;
}

namespace switchyard::routing {

class ComplexityPolicy;

struct Target {
  std::size_t index = 0;  // position in Config::models: one per provider + model pair
  const config::Model* model = nullptr;
  const config::Provider* provider = nullptr;
  std::size_t provider_index = 0;               // position in Config::providers
  const providers::Adapter* adapter = nullptr;  // the provider's wire format
  std::string quoted_upstream;                  // the upstream model name as a JSON string literal
};

struct Route {
  std::string name;
  std::vector<const Target*> targets;  // in order of preference
  // How the targets are ranked, retried and hedged; a model alias gets the resilience defaults.
  config::Strategy strategy = config::Strategy::ordered;
  std::vector<double> weights;  // aligned with targets
  config::RetryPolicy retry;
  config::Millis deadline{600'000};
  config::Hedge hedge;
  std::optional<config::Millis> cache_ttl;  // unset: the cache's own ttl
  // Some target's provider has a tokens-per-minute limit: requests need a token estimate.
  bool counts_tokens = false;

  // A classifier route has no targets: each request goes to `simple` or `complex`, as
  // `complexity` judges it (asking the `classifier` target first, when configured).
  const ComplexityPolicy* complexity = nullptr;
  const Route* simple = nullptr;
  const Route* complex = nullptr;
  const Target* classifier = nullptr;

  // The route's spending caps (nullptr when it has none; a model alias never has): its spend is
  // kept at `budget_index` in the state limit_counts, and once a cap is reached `then` serves, or
  // the request is refused when there is no `then`.
  const config::Budget* budget = nullptr;
  std::size_t budget_index = 0;  // position in Config::routes
  const Route* then = nullptr;
};

class RouteTable {
 public:
  explicit RouteTable(std::shared_ptr<const config::Config> config);
  ~RouteTable();

  // The route a request's `model` names, or nullptr.
  const Route* find(std::string_view name) const;
  const config::Config& config() const { return *config_; }
  // Every provider + model pair, in Config::models order (Target::index).
  const std::vector<Target>& targets() const { return targets_; }
  const providers::Adapter& adapter(std::size_t provider_index) const {
    return *adapters_[provider_index];
  }
  // The body of GET /v1/models: every route and model alias, in OpenAI's list shape or
  // Anthropic's.
  const std::string& models_json(api::Dialect dialect = api::Dialect::openai) const {
    return dialect == api::Dialect::openai ? models_json_ : anthropic_models_json_;
  }
  // The same list with only the routes and aliases in `only`, in the same order (a gateway key
  // limited to those).
  std::string models_json(std::span<const std::string> only, api::Dialect dialect) const;

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  // The list of the routes, then the model aliases, that `include` accepts.
  std::string list_models(const std::function<bool(std::string_view)>& include,
                          api::Dialect dialect) const;

  std::shared_ptr<const config::Config> config_;
  std::int64_t created_ = 0;
  std::vector<std::unique_ptr<providers::Adapter>> adapters_;  // by provider index
  std::vector<Target> targets_;  // one per model, in Config::models order
  std::vector<std::unique_ptr<ComplexityPolicy>> policies_;  // of the classifier routes
  std::unordered_map<std::string, Route, Hash, std::equal_to<>> routes_;
  std::string models_json_;
  std::string anthropic_models_json_;
};

}  // namespace switchyard::routing
