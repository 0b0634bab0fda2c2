#include "switchyard/routing/cost.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace switchyard::routing {

double cost_usd(const config::Model& model, const TokenCounts& tokens) {
  // A provider that reports more cached than prompt tokens is believed for the cache and not
  // billed twice.
  const auto cached = std::min(tokens.cached, tokens.prompt);
  const double fresh = static_cast<double>(tokens.prompt - cached);
  return (fresh * model.input_per_mtok + static_cast<double>(cached) * model.cached_input_per_mtok +
          static_cast<double>(tokens.completion) * model.output_per_mtok) /
         1e6;
}

std::string format_usd(double usd) {
  if (!(usd > 0) || !std::isfinite(usd)) return "0";
  char text[48];
  const int n = std::snprintf(text, sizeof text, "%.9f", usd);
  std::string out(text, static_cast<std::size_t>(std::max(n, 0)));
  while (!out.empty() && out.back() == '0') out.pop_back();
  if (!out.empty() && out.back() == '.') out.pop_back();
  return out == "0" || out.empty() ? "0" : out;
}

}  // namespace switchyard::routing
