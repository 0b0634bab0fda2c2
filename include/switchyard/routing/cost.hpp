// What a request cost, from the serving model's price table and the usage its provider reported:
// prompt tokens not read from a cache at the input price, cached ones at the cached-input price,
// completion tokens (reasoning included) at the output price — all per 1M tokens.
#pragma once

#include <cstdint>
#include <string>

#include "switchyard/config/config.hpp"

namespace switchyard::routing {

struct TokenCounts {
  std::uint64_t prompt = 0;  // cached ones included, as OpenAI counts them
  std::uint64_t completion = 0;
  std::uint64_t cached = 0;
};

double cost_usd(const config::Model& model, const TokenCounts& tokens);

struct Route;

// The output a request is held to, for a budget's reservation: the request's own
// max_tokens / max_completion_tokens, else the model's configured `max_tokens`, else this.
constexpr std::uint64_t kUnboundedOutputTokens = 4096;

// The most a request can cost on `route` (what a budget reserves before it is sent): its
// estimated prompt plus its output bound at the dearest target's prices — twice that when the
// route hedges, since two targets may answer and both are billed. 0 when no target has prices.
double worst_cost_usd(const Route& route, std::uint64_t prompt_tokens,
                      std::uint64_t max_output_tokens);

// As x-switchyard-cost and the log print it: plain decimal USD, no exponent, no trailing zeros,
// nano-dollar resolution ("0.0000015", "0.42", "0").
std::string format_usd(double usd);

}  // namespace switchyard::routing
