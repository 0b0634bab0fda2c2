// `budget:` of a route or a gateway key: spending caps in USD over rolling windows and, for a
// route, where requests go once a cap is reached.
#include <array>

#include "sections.hpp"

namespace switchyard::config {
namespace {

// Indexed by Window.
constexpr std::array<std::string_view, kWindowCount> kCapKeys{"usd_per_minute", "usd_per_hour",
                                                              "usd_per_day", "usd_per_month"};
constexpr std::array<std::string_view, kWindowCount + 1> kRouteBudgetKeys{
    "usd_per_minute", "usd_per_hour", "usd_per_day", "usd_per_month", "then",
};

// The caps of an already checked mapping. A budget without one caps nothing, which is a mistake
// (left over from a cap set to 0 to lift it: remove the budget instead).
void read_caps(NodeReader& reader, const Entry& entry, const Section& section, Budget& budget) {
  bool read = true;  // every cap given is a number >= 0
  for (const Entry& e : section.entries) {
    for (std::size_t window = 0; window < kWindowCount; ++window) {
      if (e.key != kCapKeys[window]) continue;
      const auto cap = reader.non_negative_number(e);
      read = read && cap.has_value();
      assign(budget.usd[window], cap);
    }
  }
  // A key dropped as unknown or repeated was probably meant as a cap: its error says enough.
  const bool all_known = section.entries.size() == entry.value.size();
  if (read && all_known && !budget.capped()) {
    reader.error(entry.value_position(), entry.path + ": a budget needs at least one cap above 0");
  }
}

}  // namespace

std::string_view budget_key(Window window) {
  return kCapKeys[static_cast<std::size_t>(window)];
}

void read_route_budget(NodeReader& reader, const Entry& entry, std::string_view route,
                       Budget& budget, std::vector<RouteLink>& links) {
  const auto section = reader.section(entry, kRouteBudgetKeys);
  if (!section) return;
  read_caps(reader, entry, *section, budget);
  // then: the route or model alias that serves once a cap is reached (absent = refuse with 429).
  // Whether it exists is known only once every route is read.
  if (const Entry* then = section->find("then")) {
    if (const auto name = reader.text(*then)) {
      budget.then = *name;
      links.push_back(RouteLink{RouteLink::Kind::fallback, std::string(route), *name, then->path,
                                then->value_position(), reader.source()});
    }
  }
}

void read_key_budget(NodeReader& reader, const Entry& entry, Budget& budget) {
  // Only the caps: a key over its budget is refused, there is nothing to fall back to.
  const auto section = reader.section(entry, kCapKeys);
  if (!section) return;
  read_caps(reader, entry, *section, budget);
}

}  // namespace switchyard::config
