#include "switchyard/routing/route_table.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>

#include "switchyard/api/json.hpp"
#include "switchyard/providers/adapter.hpp"
#include "switchyard/routing/complexity.hpp"

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

  created_ = std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  for (const auto& r : cfg.routes) {
    Route route{r.name, {}, r.strategy, {}, r.retry, r.deadline, r.hedge, r.cache_ttl};
    if (r.budget.capped()) {
      route.budget = &r.budget;
      route.budget_index = static_cast<std::size_t>(&r - cfg.routes.data());
    }
    if (r.complexity) {
      policies_.push_back(std::make_unique<ComplexityPolicy>(*r.complexity));
      route.complexity = policies_.back().get();
      route.classifier = target_of(r.complexity->classifier.model);
    }
    for (std::size_t i = 0; i < r.targets.size(); ++i) {
      if (const Target* t = target_of(r.targets[i])) {
        route.counts_tokens = route.counts_tokens || t->provider->tpm > 0;
        route.targets.push_back(t);
        route.weights.push_back(i < r.weights.size() ? r.weights[i] : 1.0);
      }
    }
    routes_.emplace(r.name, std::move(route));
  }
  for (const auto& t : targets_) {
    Route alias{
        t.model->name,           {&t}, config::Strategy::ordered, {1.0}, cfg.resilience.retry,
        cfg.resilience.deadline, {}};
    alias.counts_tokens = t.provider->tpm > 0;
    routes_.emplace(t.model->name, std::move(alias));
  }
  // Links between routes, now that every one has its place (the config loader checked that each
  // name resolves and that `then` chains end).
  for (const auto& r : cfg.routes) {
    Route& route = routes_.at(r.name);
    if (r.complexity) {
      route.simple = find(r.complexity->simple);
      route.complex = find(r.complexity->complex);
    }
    if (!r.budget.then.empty()) route.then = find(r.budget.then);
  }
  const auto all = [](std::string_view) { return true; };
  models_json_ = list_models(all, api::Dialect::openai);
  anthropic_models_json_ = list_models(all, api::Dialect::anthropic);
}

RouteTable::~RouteTable() = default;

std::string RouteTable::models_json(std::span<const std::string> only, api::Dialect dialect) const {
  return list_models(
      [only](std::string_view name) {
        return std::find(only.begin(), only.end(), name) != only.end();
      },
      dialect);
}

// OpenAI's {"object":"list","data":[{"id","object":"model","created","owned_by"}]}, or
// Anthropic's {"data":[{"type":"model","id","display_name","created_at"}],"has_more",
// "first_id","last_id"} (all on one page: the SDKs' pagers stop at has_more false).
std::string RouteTable::list_models(const std::function<bool(std::string_view)>& include,
                                    api::Dialect dialect) const {
  const bool anthropic = dialect == api::Dialect::anthropic;
  std::string out = anthropic ? R"({"data":[)" : R"({"object":"list","data":[)";
  std::string_view first_id, last_id;
  char created_at[32];
  const std::time_t created = created_;
  std::tm utc{};
  gmtime_r(&created, &utc);
  std::strftime(created_at, sizeof created_at, "%Y-%m-%dT%H:%M:%SZ", &utc);
  auto add = [&](std::string_view id, std::string_view owner) {
    if (!include(id)) return;
    if (!first_id.empty()) out += ',';
    if (first_id.empty()) first_id = id;
    last_id = id;
    out += R"({"id":)";
    api::json::append_quoted(out, id);
    if (anthropic) {
      out += R"(,"type":"model","display_name":)";
      api::json::append_quoted(out, id);
      out += R"(,"created_at":")";
      out += created_at;
      out += '"';
    } else {
      out += R"(,"object":"model","created":)";
      out += std::to_string(created_);
      out += R"(,"owned_by":)";
      api::json::append_quoted(out, owner);
    }
    out += '}';
  };
  for (const auto& r : config_->routes) add(r.name, "switchyard");
  for (const auto& t : targets_) add(t.model->name, t.model->provider);
  out += ']';
  if (anthropic) {
    auto id_or_null = [&out](std::string_view id) {
      if (id.empty()) {
        out += "null";
      } else {
        api::json::append_quoted(out, id);
      }
    };
    out += R"(,"has_more":false,"first_id":)";
    id_or_null(first_id);
    out += R"(,"last_id":)";
    id_or_null(last_id);
  }
  out += '}';
  return out;
}

const Route* RouteTable::find(std::string_view name) const {
  auto it = routes_.find(name);
  return it == routes_.end() ? nullptr : &it->second;
}

}  // namespace switchyard::routing
