// The catalog clients choose from: `models:` (an alias, the provider serving it, its prices) and
// `routes:` (models to try, how to choose between them, and how hard to try). A request's
// `model` names one or the other.
#include <algorithm>
#include <array>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "sections.hpp"

namespace switchyard::config {
namespace {

constexpr std::array<std::string_view, 7> kModelKeys{
    "provider", "name", "input", "output", "cached_input", "context", "max_tokens",
};
constexpr std::array<std::string_view, 9> kRouteKeys{
    "targets",  "complexity", "strategy", "weights",   "retry",
    "deadline", "hedge",      "budget",   "cache_ttl",
};
// What a classifier route leaves to the routes it chooses between.
constexpr std::array<std::string_view, 7> kNotForClassifier{
    "strategy", "weights", "retry", "deadline", "hedge", "budget", "cache_ttl"};
constexpr std::array<std::string_view, 4> kStrategies{"ordered", "weighted", "lowest_latency",
                                                      "least_busy"};
constexpr std::uint64_t kUnbounded = std::numeric_limits<std::uint64_t>::max();

// Reads `targets:` into route.targets, keeping only valid ones. Returns every name as listed,
// valid or not, for `weights:` to be checked against; nullopt when the list itself is malformed.
std::optional<std::vector<std::string>> read_targets(NodeReader& reader, const Entry& targets,
                                                     const Entry& entry, const Declared& models,
                                                     const Declared& routes, Route& route) {
  constexpr std::string_view kExpected = "a non-empty list of model aliases";
  const auto items = reader.list(targets, kExpected);
  if (!items) return std::nullopt;
  if (items->empty()) {
    reader.error(targets.value_position(),
                 targets.path + ": expected " + std::string(kExpected) + ", got an empty list");
    return std::nullopt;
  }

  std::vector<std::string> listed;
  std::map<std::string, int, std::less<>> first_line;
  for (const Item& item : *items) {
    const auto target = reader.text(item);
    if (!target) continue;
    if (const auto seen = first_line.find(*target); seen != first_line.end()) {
      reader.error(item.position, entry.path + ": model " + quote(*target) +
                                      " is listed twice (first at line " +
                                      std::to_string(seen->second) + ")");
      continue;
    }
    first_line.emplace(*target, item.position.line);
    listed.push_back(*target);
    if (!models.has(*target)) {
      const bool is_route = routes.find(*target) != nullptr;
      reader.error(item.position, entry.path + ": unknown model " + quote(*target) +
                                      (is_route ? " (a route cannot target another route)" : ""));
      continue;
    }
    route.targets.push_back(*target);
  }
  return listed;
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& name : names) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

// `weights: { a: 3, b: 1 }` into route.weights, which is aligned with route.targets and holds 1
// for each target the mapping does not name. `listed` is nullopt when the targets are unknown.
void read_weights(NodeReader& reader, const Entry& entry,
                  const std::optional<std::vector<std::string>>& listed, Route& route) {
  if (route.strategy != Strategy::weighted) {
    reader.error(entry.key_position(), entry.path + ": only with strategy weighted");
    return;
  }
  const auto section = reader.section(entry, kAnyName);
  if (!section) return;
  bool read = true;  // every weight is a number for a listed target
  for (const Entry& e : section->entries) {
    if (listed && std::find(listed->begin(), listed->end(), e.key) == listed->end()) {
      reader.error(e.key_position(), entry.path + ": unknown target " + quote(e.key) +
                                         " (the route's targets are " + joined(*listed) + ")");
      read = false;
      continue;
    }
    const auto weight = reader.non_negative_number(e);
    if (!weight) {
      read = false;
      continue;
    }
    // A listed target that is not a valid model has no place in route.weights.
    const auto index = static_cast<std::size_t>(
        std::find(route.targets.begin(), route.targets.end(), e.key) - route.targets.begin());
    if (index < route.weights.size()) route.weights[index] = *weight;
  }
  // With every weight 0 a weighted choice has nothing to choose from.
  const bool all_zero = std::all_of(route.weights.begin(), route.weights.end(),
                                    [](double weight) { return weight == 0; });
  if (read && !route.targets.empty() && all_zero) {
    reader.error(entry.value_position(),
                 entry.path + ": at least one target needs a weight above 0");
  }
}

}  // namespace

std::string_view to_string(Strategy strategy) {
  return kStrategies[static_cast<std::size_t>(strategy)];
}

Model read_model(NodeReader& reader, const Entry& entry, const Declared& providers) {
  Model model;
  model.name = entry.key;
  model.upstream = entry.key;  // most aliases are the provider's own model name
  const auto section = reader.section(entry, kModelKeys);
  if (!section) return model;

  reader.require(*section, "provider");
  for (const Entry& e : section->entries) {
    if (e.key == "provider") {
      const auto provider = reader.text(e);
      if (!provider) continue;
      model.provider = *provider;
      if (!providers.has(*provider)) {
        reader.error(e.value_position(), entry.path + ": unknown provider " + quote(*provider));
      }
    } else if (e.key == "name") {
      const auto upstream = reader.text(e);
      if (!upstream) continue;
      if (upstream->empty()) {
        reader.error(e.value_position(), e.path + ": must not be empty");
        continue;
      }
      model.upstream = *upstream;
    } else if (e.key == "input") {
      assign(model.input_per_mtok, reader.non_negative_number(e));
    } else if (e.key == "output") {
      assign(model.output_per_mtok, reader.non_negative_number(e));
    } else if (e.key == "cached_input") {
      assign(model.cached_input_per_mtok, reader.non_negative_number(e));
    } else if (e.key == "context") {
      assign(model.context, reader.integer(e, 0, kUnbounded));
    } else if (e.key == "max_tokens") {
      assign(model.max_tokens, reader.integer(e, 1, kUnbounded));
    }
  }
  // Unpriced cache reads are billed like any input: a budget should err on the side of spent.
  if (!section->find("cached_input")) model.cached_input_per_mtok = model.input_per_mtok;
  return model;
}

Route read_route(NodeReader& reader, const Entry& entry, const Declared& models,
                 const Declared& routes, const Resilience& defaults,
                 std::vector<RouteLink>& links) {
  Route route;
  route.name = entry.key;
  route.retry = defaults.retry;
  route.deadline = defaults.deadline;

  // A request's `model` must resolve to exactly one thing.
  if (const Entry* model = models.find(entry.key)) {
    reader.error(entry.key_position(), entry.path + ": name " + quote(entry.key) +
                                           " is also a model (line " +
                                           std::to_string(model->key_position().line) + ")");
  }

  const auto section = reader.section(entry, kRouteKeys);
  if (!section) return route;

  // targets: the model aliases to try; or complexity: a classifier route, which hands each
  // request to one of two other routes. Exactly one of them.
  const Entry* targets = section->find("targets");
  const Entry* complexity = section->find("complexity");
  if (!targets && !complexity) {
    reader.error(section->position, entry.path + ": expected targets or complexity");
  } else if (targets && complexity) {
    reader.error(complexity->key_position(),
                 entry.path +
                     ": expected targets or complexity, not both (a classifier route "
                     "has no targets of its own)");
  }
  std::optional<std::vector<std::string>> listed;
  if (targets) listed = read_targets(reader, *targets, entry, models, routes, route);
  if (complexity) {
    route.complexity = read_complexity(reader, *complexity, models, routes, route.name, links);
  }
  const bool classifier = complexity && !targets;

  bool strategy_read = true;
  for (const Entry& e : section->entries) {
    if (classifier && std::find(kNotForClassifier.begin(), kNotForClassifier.end(), e.key) !=
                          kNotForClassifier.end()) {
      reader.error(e.key_position(),
                   e.path + ": not for a classifier route (" +
                       (e.key == "budget" ? "put the budget on the routes it chooses between"
                                          : "the routes it chooses between decide it") +
                       ")");
      continue;
    }
    if (e.key == "strategy") {
      // strategy: how to choose between the targets (default ordered).
      const auto strategy = reader.choice(e, kStrategies);
      strategy_read = strategy.has_value();
      if (strategy) route.strategy = Strategy(*strategy);
    } else if (e.key == "retry") {
      read_retry(reader, e, route.retry, "from resilience.retry");
    } else if (e.key == "deadline") {
      assign(route.deadline, reader.duration(e, Zero::rejected));
    } else if (e.key == "cache_ttl") {
      if (const auto ttl = reader.duration(e, Zero::allowed)) route.cache_ttl = *ttl;
    } else if (e.key == "hedge") {
      read_hedge(reader, e, route.hedge);
    } else if (e.key == "budget") {
      // budget: spending caps of this route and the route or model that serves once one is
      // reached.
      read_route_budget(reader, e, route.name, route.budget, links);
    }
  }
  // After the loop: whether weights are allowed depends on the strategy, wherever it appears
  // (and is not known when its value was wrong).
  route.weights.assign(route.targets.size(), 1.0);
  const Entry* weights = section->find("weights");
  if (weights && strategy_read && !classifier) {
    read_weights(reader, *weights, listed, route);
  }
  return route;
}

}  // namespace switchyard::config
