// The schema of each top-level section of the config file: what keys it has, their types and
// their defaults. Each reader reports problems through the NodeReader and returns what it could
// read; the loader only uses the result when no problem was reported at all.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "node_reader.hpp"
#include "switchyard/config/config.hpp"

namespace switchyard::config {

// For reader.section(): a map whose keys are names chosen by the user, not schema keys.
inline constexpr std::span<const std::string_view> kAnyName{};

// The names declared in one top-level map (providers, models, routes), for resolving references.
class Declared {
 public:
  Declared() = default;
  explicit Declared(const Section* section) : section_(section) {}
  // The map was present but malformed; its error is already reported, so no reference to it is
  // reported as dangling.
  static Declared unknown() {
    Declared declared;
    declared.unknown_ = true;
    return declared;
  }

  bool has(std::string_view name) const { return unknown_ || find(name) != nullptr; }
  // The declaring entry, or nullptr (also when unknown).
  const Entry* find(std::string_view name) const {
    return section_ ? section_->find(name) : nullptr;
  }

 private:
  const Section* section_ = nullptr;
  bool unknown_ = false;
};

// Requests and tokens per minute, for a provider's rate_limit and a key's own limits: past these
// a number is a typo, not a limit.
inline constexpr std::uint64_t kMaxRpm = 100'000'000;
// Calls in flight at once (MCP's max_concurrency): past this a cap is a typo.
inline constexpr std::uint64_t kMaxConcurrency = 1'000'000;
inline constexpr std::uint64_t kMaxTpm = 1'000'000'000'000;

// A name by which a route hands a request on to another route or a model alias: a classifier
// route's `simple` and `complex`, a budget's `then`. It may name a route further down the file,
// so these are checked by check_route_links once every route has been read.
struct RouteLink {
  enum class Kind { choice, fallback };  // simple or complex; budget.then
  Kind kind = Kind::choice;
  std::string from;    // the route it belongs to
  std::string to;      // the route or model alias it names
  std::string path;    // for messages: "routes.auto.complexity.simple"
  Position position;   // of the name
  std::string source;  // the file, or the override, it is written in (NodeReader::source)
};

void read_server(NodeReader& reader, const Entry& entry, Server& server);
void read_log(NodeReader& reader, const Entry& entry, Log& log);
void read_metrics(NodeReader& reader, const Entry& entry, Metrics& metrics);
void read_tracing(NodeReader& reader, const Entry& entry, const std::filesystem::path& base_dir,
                  Tracing& tracing);
// A file the config names (ca_file): relative to `base_dir`, the config file's directory, and
// readable now. nullopt when empty or unreadable (the latter reported).
std::optional<std::string> read_file_path(NodeReader& reader, const Entry& entry,
                                          const std::filesystem::path& base_dir);
// Relative ca_file paths are resolved against `base_dir`, the config file's directory.
Provider read_provider(NodeReader& reader, const Entry& entry,
                       const std::filesystem::path& base_dir);
// `models` and `routes` are the names a key's `routes` list may use, `mcp` the servers its
// `mcp.servers` may name.
GatewayKey read_key(NodeReader& reader, const Entry& entry, const Declared& models,
                    const Declared& routes, const Mcp& mcp);
Model read_model(NodeReader& reader, const Entry& entry, const Declared& providers);
// A route's retry and deadline start from `defaults`, so the `resilience:` section must have
// been read before any route. The names it hands requests on to are appended to `links`.
Route read_route(NodeReader& reader, const Entry& entry, const Declared& models,
                 const Declared& routes, const Resilience& defaults, std::vector<RouteLink>& links);
// A classifier route's `complexity:` mapping; `simple` and `complex` go to `links`.
Complexity read_complexity(NodeReader& reader, const Entry& entry, const Declared& models,
                           const Declared& routes, std::string_view route,
                           std::vector<RouteLink>& links);
// A route's `budget:`; its `then` goes to `links`.
void read_route_budget(NodeReader& reader, const Entry& entry, std::string_view route,
                       Budget& budget, std::vector<RouteLink>& links);
// A key's `budget:`, which has no `then`: a key over its budget is refused.
void read_key_budget(NodeReader& reader, const Entry& entry, Budget& budget);
// What needs every route read: each link names an existing route or model alias, not its own
// route and not a classifier route, and no chain of budget fallbacks comes back to where it
// started.
void check_route_links(NodeReader& reader, const std::vector<RouteLink>& links,
                       const Config& config, const Declared& models);

void read_cache(NodeReader& reader, const Entry& entry, Cache& cache);
void read_redis(NodeReader& reader, const Entry& entry, Redis& redis);

// `mcp:`; relative ca_file paths against `base_dir`. A server's sampling route names one of
// `models` or `routes`.
void read_mcp(NodeReader& reader, const Entry& entry, const std::filesystem::path& base_dir,
              const Declared& models, const Declared& routes, Mcp& mcp);

void read_resilience(NodeReader& reader, const Entry& entry, Resilience& resilience);
// The keys of a `retry:` mapping over what `retry` already holds: the built-in defaults for
// `resilience.retry`, that section's values for a route's. `inherited` names where values not
// set here come from, for messages ("the default", "resilience.retry").
void read_retry(NodeReader& reader, const Entry& entry, RetryPolicy& retry,
                std::string_view inherited);
void read_hedge(NodeReader& reader, const Entry& entry, Hedge& hedge);

}  // namespace switchyard::config
