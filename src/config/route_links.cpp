// The checks between routes, made once every route is read: a classifier route's simple and
// complex and a budget's then must each name a route with targets or a model alias, and budget
// fallbacks must not go round in a cycle (a request would bounce between routes over budget).
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "sections.hpp"

namespace switchyard::config {
namespace {

// A problem with `link`, at its position in the file or override it is written in.
void report(NodeReader& reader, const RouteLink& link, std::string message) {
  reader.set_source(link.source);
  reader.error(link.position, std::move(message));
  reader.reset_source();
}

// Whether `link` names something a request can be handed to; reports why not.
bool check_target(NodeReader& reader, const RouteLink& link, const Config& config,
                  const Declared& models) {
  if (link.to == link.from) {
    report(reader, link, link.path + ": " + quote(link.to) + " is the route itself");
    return false;
  }
  const Route* route = config.find_route(link.to);
  if (!route) {
    if (models.has(link.to)) return true;
    report(reader, link, link.path + ": unknown route or model " + quote(link.to));
    return false;
  }
  if (route->complexity) {
    // A request is classified once: what it is handed to must have targets of its own.
    report(reader, link,
           link.path + ": " + quote(link.to) +
               " is a classifier route; expected a route with targets or a model alias" +
               (link.kind == RouteLink::Kind::choice ? " (classifier routes do not nest)" : ""));
    return false;
  }
  return true;
}

// Follows each chain of budget fallbacks between routes (a model alias ends one) and reports a
// cycle at the `then` that closes it, naming the routes in it.
void check_fallback_cycles(NodeReader& reader, const std::vector<const RouteLink*>& fallbacks) {
  std::map<std::string_view, const RouteLink*> next;  // route → its then, naming another route
  for (const RouteLink* link : fallbacks) next.emplace(link->from, link);

  enum class Seen { not_yet, on_this_chain, done };
  std::map<std::string_view, Seen> seen;
  for (const RouteLink* start : fallbacks) {
    std::vector<const RouteLink*> chain;
    std::string_view at = start->from;
    while (seen[at] == Seen::not_yet && next.contains(at)) {
      seen[at] = Seen::on_this_chain;
      chain.push_back(next.at(at));
      at = chain.back()->to;
    }
    if (seen[at] == Seen::on_this_chain) {
      const auto first = std::find_if(chain.begin(), chain.end(),
                                      [at](const RouteLink* link) { return link->from == at; });
      std::string cycle;
      for (auto it = first; it != chain.end(); ++it) cycle += (*it)->from + " then ";
      cycle += std::string(at);
      const RouteLink& closing = *chain.back();
      report(reader, closing,
             closing.path + ": " + quote(closing.to) +
                 " closes a cycle of budget fallbacks: " + cycle);
    }
    for (const RouteLink* link : chain) seen[link->from] = Seen::done;
  }
}

}  // namespace

void check_route_links(NodeReader& reader, const std::vector<RouteLink>& links,
                       const Config& config, const Declared& models) {
  std::vector<const RouteLink*> fallbacks;  // valid thens that name a route, in file order
  for (const RouteLink& link : links) {
    if (!check_target(reader, link, config, models)) continue;
    if (link.kind == RouteLink::Kind::fallback && config.find_route(link.to)) {
      fallbacks.push_back(&link);
    }
  }
  check_fallback_cycles(reader, fallbacks);
}

}  // namespace switchyard::config
