// What was spent since start, summed over every worker's cost counters, in USD: in all, and by
// route, provider, model and gateway key (keys only when gateway keys are configured).
#pragma once

#include <map>
#include <string>

namespace switchyard::telemetry {

struct SpendTotals {
  double total_usd = 0;
  std::map<std::string, double> routes, providers, models, keys;
};

}  // namespace switchyard::telemetry
