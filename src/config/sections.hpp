// The schema of each top-level section of the config file: what keys it has, their types and
// their defaults. Each reader reports problems through the NodeReader and returns what it could
// read; the loader only uses the result when no problem was reported at all.
#pragma once

#include <filesystem>

#include "node_reader.hpp"
#include "switchyard/config/config.hpp"

namespace switchyard::config {

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

void read_server(NodeReader& reader, const Entry& entry, Server& server);
void read_log(NodeReader& reader, const Entry& entry, Log& log);
// Relative ca_file paths are resolved against `base_dir`, the config file's directory.
Provider read_provider(NodeReader& reader, const Entry& entry,
                       const std::filesystem::path& base_dir);
// `models` and `routes` are the names a key's `routes` list may use.
GatewayKey read_key(NodeReader& reader, const Entry& entry, const Declared& models,
                    const Declared& routes);
Model read_model(NodeReader& reader, const Entry& entry, const Declared& providers);
// A route's retry and deadline start from `defaults`, so the `resilience:` section must have
// been read before any route.
Route read_route(NodeReader& reader, const Entry& entry, const Declared& models,
                 const Declared& routes, const Resilience& defaults);

void read_resilience(NodeReader& reader, const Entry& entry, Resilience& resilience);
// The keys of a `retry:` mapping over what `retry` already holds: the built-in defaults for
// `resilience.retry`, that section's values for a route's. `inherited` names where values not
// set here come from, for messages ("the default", "resilience.retry").
void read_retry(NodeReader& reader, const Entry& entry, RetryPolicy& retry,
                std::string_view inherited);
void read_hedge(NodeReader& reader, const Entry& entry, Hedge& hedge);

}  // namespace switchyard::config
