// Loading: YAML text → a validated Config, or every problem found, each with its position.
#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include <yaml-cpp/eventhandler.h>

#include "node_reader.hpp"
#include "sections.hpp"
#include "switchyard/config/config.hpp"

namespace switchyard::config {
namespace {

namespace fs = std::filesystem;

constexpr std::array<std::string_view, 12> kTopKeys{
    "server", "log",        "metrics", "tracing", "providers", "models",
    "routes", "resilience", "keys",    "cache",   "redis",     "mcp",
};

// A top-level map of named things.
struct NamedMap {
  bool present = false;
  std::optional<Section> section;  // nullopt when absent or malformed

  // Points into `section`, so only valid while this NamedMap stays where it is.
  Declared declared() const {
    if (section) return Declared(&*section);
    return present ? Declared::unknown() : Declared();
  }
};

NamedMap read_named_map(NodeReader& reader, const Section& top, std::string_view key) {
  const Entry* entry = top.find(key);
  if (!entry) return {};
  return NamedMap{true, reader.section(*entry, kAnyName)};
}

// Where diagnostics about the override of `name` point: "redis:routes.fast".
std::string override_source(std::string_view kind, std::string_view name) {
  return "redis:" + std::string(kind) + "." + std::string(name);
}

// Merges the overrides of one kind ("routes", "models") into the file's map of them, in place:
// a replaced entry keeps its place, a new one goes last, a null one is removed. An override that
// is not YAML/JSON is reported and left out. Returns the names now defined by an override.
std::vector<std::string> merge_overrides(NodeReader& reader, NamedMap& map, std::string_view kind,
                                         const std::vector<Overrides::Entry>& overrides) {
  std::vector<std::string> overridden;
  if (overrides.empty()) return overridden;
  if (!map.section) {
    if (map.present) return overridden;  // the file's own map is malformed: already reported
    map = NamedMap{true, Section{std::string(kind), Position{}, {}}};
  }
  auto& entries = map.section->entries;
  for (const auto& o : overrides) {
    YAML::Node value;
    reader.set_source(override_source(kind, o.name));
    try {
      value = YAML::Load(o.json);
    } catch (const YAML::Exception& e) {
      reader.error(position_of(e.mark), "invalid JSON: " + e.msg);
    }
    reader.reset_source();
    const auto at = std::find_if(entries.begin(), entries.end(),
                                 [&](const Entry& e) { return e.key == o.name; });
    if (value.IsNull()) {  // removed (or unreadable, and reported)
      if (at != entries.end()) entries.erase(at);
      continue;
    }
    Entry entry{o.name, std::string(kind) + "." + o.name, YAML::Node(o.name), value};
    if (at != entries.end()) {
      *at = std::move(entry);
    } else {
      entries.push_back(std::move(entry));
    }
    overridden.push_back(o.name);
  }
  return overridden;
}

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

void read_document(NodeReader& reader, const YAML::Node& document, const fs::path& base_dir,
                   const Overrides& overrides, Config& config) {
  const auto top = reader.root(document, kTopKeys);
  if (!top) return;

  if (const Entry* e = top->find("server")) read_server(reader, *e, config.server);
  if (const Entry* e = top->find("log")) read_log(reader, *e, config.log);
  if (const Entry* e = top->find("metrics")) read_metrics(reader, *e, config.metrics);
  if (const Entry* e = top->find("tracing")) read_tracing(reader, *e, base_dir, config.tracing);
  // Before the routes, whose retry and deadline start from it.
  if (const Entry* e = top->find("resilience")) read_resilience(reader, *e, config.resilience);
  if (const Entry* e = top->find("redis")) read_redis(reader, *e, config.redis.emplace());
  if (const Entry* e = top->find("cache")) {
    read_cache(reader, *e, config.cache);
    if (config.cache.backend == Cache::Backend::redis && !config.redis)
      reader.error(e->key_position(), "cache.backend: redis needs a `redis:` section with its url");
  }

  const NamedMap providers = read_named_map(reader, *top, "providers");
  NamedMap models = read_named_map(reader, *top, "models");
  NamedMap routes = read_named_map(reader, *top, "routes");
  const NamedMap keys = read_named_map(reader, *top, "keys");
  const auto models_overridden = merge_overrides(reader, models, "models", overrides.models);
  const auto routes_overridden = merge_overrides(reader, routes, "routes", overrides.routes);
  // Problems inside an override are reported against it.
  auto source_of = [&](std::string_view kind, const std::string& name,
                       const std::vector<std::string>& overridden) {
    if (contains(overridden, name)) {
      reader.set_source(override_source(kind, name));
    } else {
      reader.reset_source();
    }
  };

  if (providers.section) {
    for (const Entry& entry : providers.section->entries) {
      config.providers.push_back(read_provider(reader, entry, base_dir));
    }
  }
  if (models.section) {
    for (const Entry& entry : models.section->entries) {
      source_of("models", entry.key, models_overridden);
      config.models.push_back(read_model(reader, entry, providers.declared()));
    }
    reader.reset_source();
  }
  if (routes.section) {
    std::vector<RouteLink> links;
    for (const Entry& entry : routes.section->entries) {
      source_of("routes", entry.key, routes_overridden);
      config.routes.push_back(read_route(reader, entry, models.declared(), routes.declared(),
                                         config.resilience, links));
    }
    reader.reset_source();
    check_route_links(reader, links, config, models.declared());
  }
  // After the routes, which servers' sampling names; before the keys, which name servers.
  if (const Entry* e = top->find("mcp"))
    read_mcp(reader, *e, base_dir, models.declared(), routes.declared(), config.mcp);

  if (keys.section) {
    for (const Entry& entry : keys.section->entries) {
      config.keys.push_back(
          read_key(reader, entry, models.declared(), routes.declared(), config.mcp));
      const auto& added = config.keys.back();
      for (std::size_t i = 0; i + 1 < config.keys.size(); ++i) {
        if (!added.sha256.empty() && config.keys[i].sha256 == added.sha256)
          reader.error(entry.key_position(), entry.path + ": the same key as keys." +
                                                 config.keys[i].name + " (equal sha256)");
      }
    }
  }

  // A gateway without models answers every request with 404; that is a mistake, not a setup.
  const bool models_malformed = models.present && !models.section;
  if (!models_malformed && (!models.section || models.section->entries.empty())) {
    reader.error(Position{1, 1}, "no models configured");
  }
}

// Reads a whole file; the error names the OS reason ("No such file or directory").
std::optional<std::string> read_file(const std::string& path, std::error_code& ec) {
  std::error_code dir_ec;
  if (fs::is_directory(path, dir_ec)) {
    ec = std::make_error_code(std::errc::is_a_directory);
    return std::nullopt;
  }
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (!file) {
    ec = std::error_code(errno, std::generic_category());
    return std::nullopt;
  }
  std::string text;
  char buffer[16 * 1024];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, file)) > 0) text.append(buffer, n);
  const bool failed = std::ferror(file) != 0;
  if (failed) ec = std::error_code(errno, std::generic_category());
  std::fclose(file);
  if (failed) return std::nullopt;
  return text;
}

// Where each document of a YAML stream begins. Not YAML::LoadAll: yaml-cpp 0.7 (Debian 12's)
// never returns from it on a document that starts with ',' — the parser reports a null document
// there again and again without moving on, allocating each time (its issue #1040, found here by
// tests/fuzz/config_fuzz: a config file that is just "," took all memory). A document that does
// not move the parser ends the scan, and where it stuck is a syntax error.
class DocumentStarts : public YAML::EventHandler {
 public:
  struct Scan {
    std::vector<YAML::Mark> starts;
    std::optional<YAML::Mark> stuck;
  };
  static Scan of(const std::string& yaml) {
    std::istringstream in(yaml);
    YAML::Parser parser(in);
    DocumentStarts handler;
    Scan scan;
    while (parser.HandleNextDocument(handler)) {
      const YAML::Mark at = handler.first_.value_or(YAML::Mark());
      if (!scan.starts.empty() && at.pos == scan.starts.back().pos) {
        scan.stuck = at;
        break;
      }
      scan.starts.push_back(at);
      handler.first_.reset();
    }
    return scan;
  }

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { note(mark); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { note(mark); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                const std::string&) override {
    note(mark);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    note(mark);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    note(mark);
  }
  void OnMapEnd() override {}

 private:
  void note(const YAML::Mark& mark) {
    if (!first_) first_ = mark;
  }
  std::optional<YAML::Mark> first_;
};

}  // namespace

LoadResult load_config_string(std::string_view yaml, const std::string& file_name,
                              const EnvLookup& env, const Overrides& overrides) {
  NodeReader reader(file_name, env);
  Config config;
  config.source = file_name;

  YAML::Node document;
  try {
    const std::string text(yaml);
    const auto scan = DocumentStarts::of(text);
    if (scan.stuck) {
      const auto at = static_cast<std::size_t>(scan.stuck->pos);
      reader.error(position_of(*scan.stuck), at < text.size() && text[at] == ','
                                                 ? "invalid YAML: unexpected ','"
                                                 : "invalid YAML: a document cannot start here");
    } else if (scan.starts.size() > 1) {
      reader.error(position_of(scan.starts[1]),
                   "expected one YAML document, found " + std::to_string(scan.starts.size()));
    } else {
      document = YAML::Load(text);
    }
  } catch (const YAML::Exception& e) {
    // yaml-cpp stops at the first syntax error, so it is reported alone.
    reader.error(position_of(e.mark), "invalid YAML: " + e.msg);
  }
  if (!reader.has_errors())
    read_document(reader, document, fs::path(file_name).parent_path(), overrides, config);

  LoadResult result;
  result.errors = reader.take_diagnostics();
  if (result.errors.empty()) result.config = std::move(config);
  return result;
}

LoadResult load_config_file(const std::string& path, const EnvLookup& env,
                            const Overrides& overrides) {
  std::error_code ec;
  const auto text = read_file(path, ec);
  if (!text) {
    LoadResult result;
    result.errors.push_back(Diagnostic{path, 0, 0, "cannot read config file: " + ec.message()});
    return result;
  }
  return load_config_string(*text, path, env, overrides);
}

}  // namespace switchyard::config
