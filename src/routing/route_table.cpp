#include "switchyard/routing/route_table.hpp"

#include <chrono>

#include "switchyard/api/json.hpp"
#include "switchyard/providers/adapter.hpp"

namespace switchyard::routing {

RouteTable::RouteTable(std::shared_ptr<const config::Config> config) : config_(std::move(config)) {
  const auto& cfg = *config_;
  adapters_.reserve(cfg.providers.size());
  for (const auto& p : cfg.providers) adapters_.push_back(providers::make_adapter(p));
  targets_.reserve(cfg.models.size());
  for (const auto& m : cfg.models) {
    Target t;
    t.index = targets_.size();
    t.model = &m;
    for (std::size_t i = 0; i < cfg.providers.size(); ++i) {
      if (cfg.providers[i].name == m.provider) {
        t.provider = &cfg.providers[i];
        t.provider_index = i;
        t.adapter = adapters_[i].get();
      }
    }
    api::json::append_quoted(t.quoted_upstream, m.upstream);
    targets_.push_back(std::move(t));
  }
  auto target_of = [&](std::string_view alias) -> const Target* {
    for (const auto& t : targets_)
      if (t.model->name == alias) return &t;
    return nullptr;
  };

  const auto created = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
  models_json_ = R"({"object":"list","data":[)";
  bool first = true;
  auto list = [&](std::string_view id, std::string_view owner) {
    if (!first) models_json_ += ',';
    first = false;
    models_json_ += R"({"id":)";
    api::json::append_quoted(models_json_, id);
    models_json_ += R"(,"object":"model","created":)";
    models_json_ += std::to_string(created);
    models_json_ += R"(,"owned_by":)";
    api::json::append_quoted(models_json_, owner);
    models_json_ += '}';
  };

  for (const auto& r : cfg.routes) {
    Route route{r.name, {}, r.strategy, {}, r.retry, r.deadline, r.hedge};
    for (std::size_t i = 0; i < r.targets.size(); ++i) {
      if (const Target* t = target_of(r.targets[i])) {
        route.targets.push_back(t);
        route.weights.push_back(i < r.weights.size() ? r.weights[i] : 1.0);
      }
    }
    routes_.emplace(r.name, std::move(route));
    list(r.name, "switchyard");
  }
  for (const auto& t : targets_) {
    routes_.emplace(t.model->name, Route{t.model->name,
                                         {&t},
                                         config::Strategy::ordered,
                                         {1.0},
                                         cfg.resilience.retry,
                                         cfg.resilience.deadline,
                                         {}});
    list(t.model->name, t.model->provider);
  }
  models_json_ += "]}";
}

RouteTable::~RouteTable() = default;

const Route* RouteTable::find(std::string_view name) const {
  auto it = routes_.find(name);
  return it == routes_.end() ? nullptr : &it->second;
}

}  // namespace switchyard::routing
