// `complexity:` of a classifier route: the two routes it chooses between and what makes a
// request complex (its estimated size, heuristic signals, optionally a model's judgement).
#include <array>
#include <limits>
#include <regex>

#include "sections.hpp"

namespace switchyard::config {
namespace {

constexpr std::array<std::string_view, 5> kComplexityKeys{"simple", "complex", "max_simple_tokens",
                                                          "signals", "classifier"};
constexpr std::array<std::string_view, 5> kSignalKeys{"tools", "json_schema", "max_turns", "images",
                                                      "patterns"};
constexpr std::array<std::string_view, 3> kClassifierKeys{"model", "timeout", "threshold"};

constexpr std::uint64_t kUnbounded = std::numeric_limits<std::uint64_t>::max();

// Compiled here only to be checked, with the flags routing/complexity.cpp compiles it with.
void read_pattern(NodeReader& reader, const Item& item, ComplexitySignals& signals) {
  const auto pattern = reader.text(item);
  if (!pattern) return;
  try {
    const std::regex regex(*pattern, std::regex::ECMAScript | std::regex::icase);
    // Such a pattern makes every request complex: "", "a*", "(please)?".
    if (std::regex_search("", regex)) {
      reader.error(item.position,
                   item.path + ": " + quote(*pattern) +
                       " matches the empty string, so every message would be complex");
      return;
    }
  } catch (const std::regex_error& e) {
    reader.error(item.position,
                 item.path + ": invalid regex " + quote(*pattern) + ": " + std::string(e.what()));
    return;
  }
  signals.patterns.push_back(*pattern);
}

void read_signals(NodeReader& reader, const Entry& entry, ComplexitySignals& signals) {
  const auto section = reader.section(entry, kSignalKeys);
  if (!section) return;
  for (const Entry& e : section->entries) {
    if (e.key == "tools") {
      // tools: a non-empty `tools` array makes a request complex (default true).
      assign(signals.tools, reader.boolean(e));
    } else if (e.key == "json_schema") {
      // json_schema: so does response_format of type json_schema (default false).
      assign(signals.json_schema, reader.boolean(e));
    } else if (e.key == "max_turns") {
      // max_turns: so do more messages than this (absent = not a signal).
      assign(signals.max_turns, reader.integer(e, 1, std::numeric_limits<std::size_t>::max()));
    } else if (e.key == "images") {
      // images: so does any image_url content part (default false).
      assign(signals.images, reader.boolean(e));
    } else if (e.key == "patterns") {
      // patterns: so does message text matching one of these ECMAScript regexes, ignoring case.
      const auto items = reader.list(e, "a list of regular expressions");
      if (!items) continue;
      for (const Item& item : *items) read_pattern(reader, item, signals);
    }
  }
}

void read_classifier(NodeReader& reader, const Entry& entry, const Declared& models,
                     const Declared& routes, Classifier& classifier) {
  const auto section = reader.section(entry, kClassifierKeys);
  if (!section) return;
  reader.require(*section, "model");
  for (const Entry& e : section->entries) {
    if (e.key == "model") {
      // model: the alias of the model asked for a score in [0, 1] (required).
      const auto model = reader.text(e);
      if (!model) continue;
      if (!models.has(*model)) {
        const bool is_route = routes.find(*model) != nullptr;
        reader.error(e.value_position(),
                     e.path + ": unknown model " + quote(*model) +
                         (is_route ? " (the classifier is a model alias, not a route)" : ""));
        continue;
      }
      classifier.model = *model;
    } else if (e.key == "timeout") {
      // timeout: how long the score may take before the heuristic decides alone (default 50ms).
      assign(classifier.timeout, reader.duration(e, Zero::rejected));
    } else if (e.key == "threshold") {
      // threshold: a score at or above it makes the request complex (default 0.5).
      assign(classifier.threshold, reader.fraction(e, Zero::allowed));
    }
  }
}

}  // namespace

Complexity read_complexity(NodeReader& reader, const Entry& entry, const Declared& models,
                           const Declared& routes, std::string_view route,
                           std::vector<RouteLink>& links) {
  Complexity complexity;
  const auto section = reader.section(entry, kComplexityKeys);
  if (!section) return complexity;
  reader.require(*section, "simple");
  reader.require(*section, "complex");
  for (const Entry& e : section->entries) {
    if (e.key == "simple" || e.key == "complex") {
      // simple, complex: a route with targets or a model alias each; checked by
      // check_route_links, as they may name a route further down.
      const auto name = reader.text(e);
      if (!name) continue;
      (e.key == "simple" ? complexity.simple : complexity.complex) = *name;
      links.push_back(RouteLink{RouteLink::Kind::choice, std::string(route), *name, e.path,
                                e.value_position(), reader.source()});
    } else if (e.key == "max_simple_tokens") {
      // max_simple_tokens: an estimated prompt this long or longer is complex (default 500).
      assign(complexity.max_simple_tokens, reader.integer(e, 1, kUnbounded));
    } else if (e.key == "signals") {
      read_signals(reader, e, complexity.signals);
    } else if (e.key == "classifier") {
      read_classifier(reader, e, models, routes, complexity.classifier);
    }
  }
  return complexity;
}

}  // namespace switchyard::config
