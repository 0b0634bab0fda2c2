// The catalog clients choose from: `models:` (an alias, the provider serving it, its prices) and
// `routes:` (an ordered list of models to try). A request's `model` names one or the other.
#include <array>
#include <limits>
#include <map>

#include "sections.hpp"

namespace switchyard::config {
namespace {

constexpr std::array<std::string_view, 7> kModelKeys{
    "provider", "name", "input", "output", "cached_input", "context", "max_tokens",
};
constexpr std::array<std::string_view, 1> kRouteKeys{"targets"};

constexpr std::uint64_t kUnbounded = std::numeric_limits<std::uint64_t>::max();

}  // namespace

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
  return model;
}

Route read_route(NodeReader& reader, const Entry& entry, const Declared& models,
                 const Declared& routes) {
  Route route;
  route.name = entry.key;

  // A request's `model` must resolve to exactly one thing.
  if (const Entry* model = models.find(entry.key)) {
    reader.error(entry.key_position(), entry.path + ": name " + quote(entry.key) +
                                           " is also a model (line " +
                                           std::to_string(model->key_position().line) + ")");
  }

  const auto section = reader.section(entry, kRouteKeys);
  if (!section) return route;
  if (!reader.require(*section, "targets")) return route;

  const Entry& targets = *section->find("targets");
  constexpr std::string_view kExpected = "a non-empty list of model aliases";
  const auto items = reader.list(targets, kExpected);
  if (!items) return route;
  if (items->empty()) {
    reader.error(targets.value_position(),
                 targets.path + ": expected " + std::string(kExpected) + ", got an empty list");
    return route;
  }

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
    if (!models.has(*target)) {
      const bool is_route = routes.find(*target) != nullptr;
      reader.error(item.position, entry.path + ": unknown model " + quote(*target) +
                                      (is_route ? " (a route cannot target another route)" : ""));
      continue;
    }
    route.targets.push_back(*target);
  }
  return route;
}

}  // namespace switchyard::config
