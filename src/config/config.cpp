// Lookups on a loaded Config and the printed form of a load diagnostic.
#include "switchyard/config/config.hpp"

#include <algorithm>

namespace switchyard::config {
namespace {

// Linear: a config names a handful of providers, models and routes, and callers that look names
// up per request build their own index from the snapshot.
template <typename T>
const T* find_named(const std::vector<T>& items, std::string_view name) {
  const auto it =
      std::find_if(items.begin(), items.end(), [name](const T& item) { return item.name == name; });
  return it == items.end() ? nullptr : &*it;
}

}  // namespace

const Provider* Config::find_provider(std::string_view name) const {
  return find_named(providers, name);
}

const Model* Config::find_model(std::string_view name) const {
  return find_named(models, name);
}

const Route* Config::find_route(std::string_view name) const {
  return find_named(routes, name);
}

const McpServer* Mcp::find_server(std::string_view name) const {
  return find_named(servers, name);
}

std::string Diagnostic::to_string() const {
  // Problems with the file as a whole (it cannot be read) have no position.
  if (line <= 0) return file + ": " + message;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

}  // namespace switchyard::config
