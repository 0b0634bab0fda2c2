#include "switchyard/routing/cost.hpp"

#include "switchyard/routing/route_table.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

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

double worst_cost_usd(const Route& route, std::uint64_t prompt_tokens,
                      std::uint64_t max_output_tokens) {
  double worst = 0;
  for (const Target* target : route.targets) {
    const config::Model& model = *target->model;
    const std::uint64_t output = max_output_tokens > 0  ? max_output_tokens
                                 : model.max_tokens > 0 ? model.max_tokens
                                                        : kUnboundedOutputTokens;
    worst = std::max(worst, cost_usd(model, {prompt_tokens, output, 0}));
  }
  return route.hedge.enabled ? 2 * worst : worst;
}

std::string format_usd(double usd) {
  // Integer nano-dollars and to_chars: printf's %f costs more than the rest of the request's
  // bookkeeping together (bench/instructions.sh).
  if (!(usd > 0) || !std::isfinite(usd)) return "0";
  // Past a billion dollars nano-dollars would overflow; whole dollars are plenty there.
  if (usd >= 1e9) return std::to_string(std::llround(usd));
  const auto nanos = static_cast<std::uint64_t>(std::llround(usd * 1e9));
  char text[32];
  char* end = std::to_chars(text, text + sizeof text, nanos / 1'000'000'000).ptr;
  std::uint64_t fraction = nanos % 1'000'000'000;
  if (fraction != 0) {
    *end++ = '.';
    int digits = 9;
    while (fraction % 10 == 0) {
      fraction /= 10;
      --digits;
    }
    char* start_of = end;
    end += digits;
    for (char* p = end; p != start_of;) {
      *--p = static_cast<char>('0' + fraction % 10);
      fraction /= 10;
    }
  }
  return std::string(text, end);
}

}  // namespace switchyard::routing
