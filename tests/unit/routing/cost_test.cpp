// A request's cost from the price table and the reported usage, and how it is printed.
#include <gtest/gtest.h>

#include "switchyard/routing/cost.hpp"
#include "switchyard/routing/route_table.hpp"

namespace switchyard::routing {
namespace {

config::Model priced(double input, double output, double cached) {
  config::Model m;
  m.input_per_mtok = input;
  m.output_per_mtok = output;
  m.cached_input_per_mtok = cached;
  return m;
}

TEST(Cost, ChargesFreshInputCachedInputAndOutputAtTheirOwnPrices) {
  // gpt-4o: $2.50 in, $10 out, $1.25 cached, per 1M tokens.
  const auto m = priced(2.50, 10.00, 1.25);
  EXPECT_DOUBLE_EQ(cost_usd(m, {1'000'000, 0, 0}), 2.50);
  EXPECT_DOUBLE_EQ(cost_usd(m, {0, 1'000'000, 0}), 10.00);
  // 1000 prompt tokens of which 400 cached, 200 completion tokens.
  EXPECT_DOUBLE_EQ(cost_usd(m, {1000, 200, 400}), (600 * 2.50 + 400 * 1.25 + 200 * 10.00) / 1e6);
}

TEST(Cost, NeverBillsMoreCachedTokensThanThePromptHad) {
  const auto m = priced(2.0, 0, 1.0);
  EXPECT_DOUBLE_EQ(cost_usd(m, {100, 0, 500}), 100 * 1.0 / 1e6);
}

TEST(Cost, IsZeroForAnUnpricedModel) {
  EXPECT_EQ(cost_usd(config::Model{}, {1000, 1000, 0}), 0.0);
}

TEST(Cost, TheWorstCaseIsTheDearestTargetWithTheOutputBoundTheRequestOrModelSets) {
  auto cheap = priced(0.15, 0.60, 0.15), dear = priced(3.00, 15.00, 3.00);
  dear.max_tokens = 1000;  // configured: what the model is held to when the request names none
  const Target a{0, &cheap}, b{1, &dear};
  Route route;
  route.targets = {&a, &b};
  // The request's own max_tokens: 2000 prompt + 500 output at the dearer prices.
  EXPECT_DOUBLE_EQ(worst_cost_usd(route, 2000, 500), (2000 * 3.00 + 500 * 15.00) / 1e6);
  // Without one: the dear model's 1000, the cheap one's kUnboundedOutputTokens (4096) — the dear
  // one is still dearer.
  EXPECT_DOUBLE_EQ(worst_cost_usd(route, 2000, 0), (2000 * 3.00 + 1000 * 15.00) / 1e6);
  route.targets = {&a};
  EXPECT_DOUBLE_EQ(worst_cost_usd(route, 2000, 0),
                   (2000 * 0.15 + kUnboundedOutputTokens * 0.60) / 1e6);
  // A hedged route may pay two targets for one answer.
  route.hedge.enabled = true;
  EXPECT_DOUBLE_EQ(worst_cost_usd(route, 100, 100), 2 * (100 * 0.15 + 100 * 0.60) / 1e6);
  route.targets = {};
  EXPECT_EQ(worst_cost_usd(route, 100, 100), 0.0);
}

TEST(Cost, PrintsPlainDecimalDollarsWithoutTrailingZeros) {
  EXPECT_EQ(format_usd(0), "0");
  EXPECT_EQ(format_usd(-1), "0");
  EXPECT_EQ(format_usd(0.42), "0.42");
  EXPECT_EQ(format_usd(1.5e-6), "0.0000015");
  EXPECT_EQ(format_usd(12.0), "12");
  EXPECT_EQ(format_usd(3e-10), "0");  // below a nano-dollar
  EXPECT_EQ(format_usd(0.000123456789), "0.000123457");
  EXPECT_EQ(format_usd(12.5), "12.5");
  EXPECT_EQ(format_usd(1.000000001), "1.000000001");
  EXPECT_EQ(format_usd(2.5e9), "2500000000");
}

}  // namespace
}  // namespace switchyard::routing
