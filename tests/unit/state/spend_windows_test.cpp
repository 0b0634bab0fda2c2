// Rolling-window spend budgets: charges adding up, leaving the window slot by slot, which window
// is exhausted and for how long, rounding, and exactness across threads — on a hand-set clock.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdint>
#include <limits>
#include <thread>
#include <vector>

#include "switchyard/state/spend_windows.hpp"

namespace switchyard::state {
namespace {

using namespace std::chrono_literals;
using config::Window;

// Midnight UTC, 20000 days after the epoch: a boundary of every window's slots (12 h, 24 min,
// 1 min, 1 s).
const SpendWindows::Time kT0 = SpendWindows::Time{} + 24h * 20'000;

config::Budget caps(double minute, double hour, double day, double month) {
  config::Budget budget;
  budget.usd = {minute, hour, day, month};
  return budget;
}

TEST(SpendWindows, ChargesAddUpInEveryCappedWindow) {
  SpendWindows spend(caps(10, 100, 0, 0));
  EXPECT_TRUE(spend.capped());
  spend.charge(1.25, kT0);
  spend.charge(2.5, kT0 + 10s);
  spend.charge(0.25, kT0 + 59s);
  EXPECT_EQ(spend.spent(Window::minute, kT0 + 59s), 4.0);
  EXPECT_EQ(spend.spent(Window::hour, kT0 + 59s), 4.0);
  EXPECT_EQ(spend.spent(Window::day, kT0 + 59s), 0.0);  // uncapped: not kept
  EXPECT_EQ(spend.cap(Window::minute), 10.0);
  EXPECT_EQ(spend.cap(Window::hour), 100.0);
  EXPECT_EQ(spend.cap(Window::day), 0.0);
}

TEST(SpendWindows, ChargeLeavesTheMinuteWindowAfterSixtySeconds) {
  SpendWindows spend(caps(10, 100, 0, 0));
  spend.charge(1, kT0 + 500ms);
  EXPECT_EQ(spend.spent(Window::minute, kT0 + 59s + 999ms), 1.0);
  EXPECT_EQ(spend.spent(Window::minute, kT0 + 60s), 0.0);
  EXPECT_EQ(spend.spent(Window::hour, kT0 + 60s), 1.0);
}

TEST(SpendWindows, SpendLeavesTheHourWindowSlotBySlot) {
  SpendWindows spend(caps(0, 100, 0, 0));
  spend.charge(1, kT0);
  spend.charge(1, kT0 + 10min);
  spend.charge(1, kT0 + 30min + 59s);
  EXPECT_EQ(spend.spent(Window::hour, kT0 + 59min), 3.0);
  EXPECT_EQ(spend.spent(Window::hour, kT0 + 60min), 2.0);
  EXPECT_EQ(spend.spent(Window::hour, kT0 + 69min + 59s), 2.0);
  EXPECT_EQ(spend.spent(Window::hour, kT0 + 70min), 1.0);
  EXPECT_EQ(spend.spent(Window::hour, kT0 + 90min + 59s), 0.0);
}

TEST(SpendWindows, ExhaustedSaysWhichWindowHowMuchAndExactlyWhenThereIsRoomAgain) {
  SpendWindows spend(caps(1, 0, 0, 0));
  spend.charge(0.1, kT0 + 5s);
  spend.charge(0.2, kT0 + 10s);
  spend.charge(0.9, kT0 + 40s);
  EXPECT_FALSE(spend.exhausted(kT0 + 39s));
  const auto over = spend.exhausted(kT0 + 45s + 500ms);
  ASSERT_TRUE(over);
  EXPECT_EQ(over->window, Window::minute);
  EXPECT_DOUBLE_EQ(over->spent_usd, 1.2);
  EXPECT_EQ(over->cap_usd, 1.0);
  // Once the $0.10 of second 5 leaves (at 65 s) $1.10 is still too much; once the $0.20 of
  // second 10 leaves (at 70 s) $0.90 is below the cap: 24.5 s from now, rounded up.
  EXPECT_EQ(over->retry_after, 25s);
  EXPECT_EQ(spend.exhausted(kT0 + 65s)->retry_after, 5s);
  EXPECT_EQ(spend.exhausted(kT0 + 69s + 900ms)->retry_after, 1s);
  EXPECT_FALSE(spend.exhausted(kT0 + 70s));
  EXPECT_DOUBLE_EQ(spend.spent(Window::minute, kT0 + 70s), 0.9);
}

TEST(SpendWindows, SpendingExactlyTheCapExhaustsIt) {
  SpendWindows spend(caps(0, 0, 0, 3));
  spend.charge(1, kT0);
  spend.charge(2, kT0 + 12h);
  EXPECT_FALSE(spend.exhausted(kT0 + 11h));
  const auto over = spend.exhausted(kT0 + 13h);
  ASSERT_TRUE(over);
  EXPECT_EQ(over->window, Window::month);
  // Removing the first 12 h slot leaves $2 < $3: it leaves the 30 days at kT0 + 30 days.
  EXPECT_EQ(over->retry_after, 24h * 30 - 13h);
}

TEST(SpendWindows, AMinuteCapCanPassWhileTheDayCapIsSpent) {
  SpendWindows spend(caps(1, 2, 5, 0));
  for (int k = 0; k < 6; ++k) spend.charge(0.9, kT0 + k * 30min);  // day slots 0, 1, 2, 3, 5, 6
  const auto now = kT0 + 150min + 10s;
  EXPECT_DOUBLE_EQ(spend.spent(Window::minute, now), 0.9);
  EXPECT_DOUBLE_EQ(spend.spent(Window::hour, now), 1.8);  // the charges at 120 and 150 min
  EXPECT_DOUBLE_EQ(spend.spent(Window::day, now), 5.4);
  const auto over = spend.exhausted(now);
  ASSERT_TRUE(over);
  EXPECT_EQ(over->window, Window::day);
  EXPECT_DOUBLE_EQ(over->spent_usd, 5.4);
  EXPECT_EQ(over->cap_usd, 5.0);
  EXPECT_EQ(over->retry_after, 24h - 150min - 10s);  // the first 24-min slot leaves: $4.50
  // With the minute spent too, the minute is reported first.
  spend.charge(0.1, now);
  EXPECT_EQ(spend.exhausted(now)->window, Window::minute);
}

TEST(SpendWindows, AnUncappedBudgetIsNeverExhausted) {
  SpendWindows spend{config::Budget{}};
  EXPECT_FALSE(spend.capped());
  spend.charge(1e6, kT0);
  EXPECT_FALSE(spend.exhausted(kT0));
  EXPECT_EQ(spend.spent(Window::minute, kT0), 0.0);
  EXPECT_EQ(spend.cap(Window::month), 0.0);
}

TEST(SpendWindows, RoundsEveryChargeUpToAWholeMicroDollar) {
  SpendWindows spend(caps(1, 0, 0, 0));
  spend.charge(1e-9, kT0);       // → $0.000001
  spend.charge(0.0000015, kT0);  // → $0.000002
  EXPECT_DOUBLE_EQ(spend.spent(Window::minute, kT0), 0.000003);
  // Binary noise is not a fraction of a micro-dollar: ten dimes make exactly a dollar more.
  for (int i = 0; i < 10; ++i) spend.charge(0.1, kT0);
  EXPECT_DOUBLE_EQ(spend.spent(Window::minute, kT0), 1.000003);
  // Nor does the forgiveness cost a large charge its last micro-dollar.
  SpendWindows large(caps(0, 0, 0, 1e7));
  large.charge(500'000, kT0);
  large.charge(123'456.789012, kT0);
  EXPECT_EQ(large.spent(Window::month, kT0), 623'456.789012);
  spend.charge(0, kT0);
  spend.charge(-5, kT0);
  spend.charge(std::numeric_limits<double>::quiet_NaN(), kT0);
  EXPECT_DOUBLE_EQ(spend.spent(Window::minute, kT0), 1.000003);
}

TEST(SpendWindows, AFullSlotSaturatesInsteadOfSpillingIntoItsEpoch) {
  SpendWindows spend(caps(1e7, 0, 0, 0));
  const double slot_max = static_cast<double>((std::uint64_t{1} << 40) - 1) / 1e6;  // ≈ $1.1M
  spend.charge(1e6, kT0);
  spend.charge(1e6, kT0);
  EXPECT_EQ(spend.spent(Window::minute, kT0), slot_max);
  spend.charge(1, kT0 + 1s);  // the next slot is unaffected
  EXPECT_EQ(spend.spent(Window::minute, kT0 + 1s), slot_max + 1);
}

TEST(SpendWindows, AChargeStampedEarlierNeverWipesALaterOne) {
  // A thread whose clock reads a minute behind another's lands on the same ring position.
  SpendWindows spend(caps(10, 0, 0, 0));
  spend.charge(1, kT0 + 60s);
  spend.charge(2, kT0);
  EXPECT_EQ(spend.spent(Window::minute, kT0 + 60s), 3.0);
}

TEST(SpendWindows, ChargesFromManyThreadsAddUpExactly) {
  SpendWindows spend(caps(1e6, 0, 0, 1e6));
  constexpr int kThreads = 8;
  constexpr int kCharges = 20'000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kCharges; ++i) spend.charge(0.000123, kT0 + std::chrono::seconds(i % 60));
    });
  }
  for (auto& t : threads) t.join();
  const double expected = kThreads * kCharges * 123 / 1e6;
  EXPECT_DOUBLE_EQ(spend.spent(Window::minute, kT0 + 59s), expected);
  EXPECT_DOUBLE_EQ(spend.spent(Window::month, kT0 + 59s), expected);
}

TEST(SpendWindows, NoChargeIsLostToAConcurrentResetOfAStaleSlot) {
  SpendWindows spend(caps(1e6, 1e6, 0, 0));
  spend.charge(5, kT0);  // a minute later its slot is stale: the first charge there resets it
  constexpr int kThreads = 8;
  constexpr int kCharges = 20'000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kCharges; ++i) spend.charge(0.000007, kT0 + 60s);
    });
  }
  for (auto& t : threads) t.join();
  const double charged = kThreads * kCharges * 7 / 1e6;
  EXPECT_DOUBLE_EQ(spend.spent(Window::minute, kT0 + 60s), charged);
  EXPECT_DOUBLE_EQ(spend.spent(Window::hour, kT0 + 60s), 5 + charged);
}

TEST(SpendWindows, AReservationCountsAgainstTheCapUntilReleased) {
  SpendWindows spend(caps(1.0, 0, 0, 0));
  spend.charge(0.5, kT0);
  EXPECT_FALSE(spend.reserve(300'000, kT0));  // $0.30 of the $0.50 left
  EXPECT_DOUBLE_EQ(spend.held(), 0.3);
  // $0.30 more would pass the cap beside the first: refused, saying what is held.
  const auto refused = spend.reserve(300'000, kT0);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->window, Window::minute);
  EXPECT_DOUBLE_EQ(refused->spent_usd, 0.5);
  EXPECT_DOUBLE_EQ(refused->held_usd, 0.3);
  EXPECT_DOUBLE_EQ(refused->need_usd, 0.3);
  EXPECT_EQ(refused->retry_after, 1s);
  EXPECT_FALSE(spend.reserve(200'000, kT0));  // exactly fills the cap
  // The first settles for less than it held: its real cost is charged, the hold released.
  spend.charge(0.1, kT0);
  spend.release(300'000);
  EXPECT_DOUBLE_EQ(spend.held(), 0.2);
  EXPECT_FALSE(spend.reserve(200'000, kT0));  // 0.6 spent + 0.2 + 0.2 = the cap
  EXPECT_TRUE(spend.reserve(1, kT0));
}

TEST(SpendWindows, AWorstCaseThatDoesNotFitWaitsForSpendToLeaveUnlessItIsLargerThanTheCap) {
  SpendWindows spend(caps(1.0, 0, 0, 0));
  spend.charge(0.9, kT0);
  // $0.20 against the $0.10 left: refused until the $0.90 leaves the minute window.
  const auto later = spend.reserve(200'000, kT0 + 10s);
  ASSERT_TRUE(later);
  EXPECT_DOUBLE_EQ(later->spent_usd, 0.9);
  EXPECT_DOUBLE_EQ(later->held_usd, 0);
  EXPECT_DOUBLE_EQ(later->need_usd, 0.2);
  EXPECT_EQ(later->retry_after, 50s);
  // $5 could never fit under a $1 cap: it runs alone, while spend is under the cap...
  EXPECT_FALSE(spend.reserve(5'000'000, kT0));
  // ...and nothing runs beside it, however small...
  const auto beside = spend.reserve(1, kT0);
  ASSERT_TRUE(beside);
  EXPECT_DOUBLE_EQ(beside->held_usd, 5.0);
  spend.charge(0.05, kT0);
  spend.release(5'000'000);
  EXPECT_FALSE(spend.reserve(1, kT0));  // ...until it settles.
  spend.release(1);
  // Once spend reaches the cap, even a request alone is refused, with no hold to blame.
  spend.charge(0.05, kT0);
  const auto spent = spend.reserve(5'000'000, kT0);
  ASSERT_TRUE(spent);
  EXPECT_DOUBLE_EQ(spent->held_usd, 0);
  EXPECT_EQ(spent->retry_after, 60s);
}

TEST(SpendWindows, ReservationsFromManyThreadsNeverOvershootTheCap) {
  // 8 threads each reserve $0.01, charge its full cost and release, until refused: what they
  // spent together ends exactly at the cap — no request was admitted without room for it.
  SpendWindows spend(caps(0, 0, 10.0, 0));
  constexpr int kThreads = 8;
  std::atomic<int> admitted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      while (true) {
        const auto refused = spend.reserve(10'000, kT0);
        if (refused && refused->held_usd <= 0) return;  // spent: done
        if (refused) continue;                          // others hold the rest: try again
        ++admitted;
        spend.charge(0.01, kT0);
        spend.release(10'000);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(admitted.load(), 1000);
  EXPECT_DOUBLE_EQ(spend.spent(Window::day, kT0), 10.0);
  EXPECT_DOUBLE_EQ(spend.held(), 0);
}

TEST(SpendWindows, ASpendTheReplicasReachedTogetherIsRefusedUntilItsWindowFrees) {
  // Redis said the hour was spent ($2.50 of $2), free again in 40 minutes; this replica alone
  // spent only $0.50 of it. Counting alone, it still refuses until then.
  SpendWindows spend(caps(0, 2.0, 0, 0));
  spend.charge(0.5, kT0);
  spend.remember_spent({Window::hour, 2.5, 2.0, 40min}, kT0);
  const auto refused = spend.reserve(10'000, kT0 + 10min);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->window, Window::hour);
  EXPECT_DOUBLE_EQ(refused->spent_usd, 2.5);
  EXPECT_DOUBLE_EQ(refused->cap_usd, 2.0);
  EXPECT_EQ(refused->retry_after, 30min);
  EXPECT_FALSE(spend.reserve(10'000, kT0 + 40min));  // then its own count decides
}

TEST(SpendWindows, ASpendTooHighForOneRequestStillAdmitsASmallerOneWhileCountingAlone) {
  // Redis: $0.048 of $0.05 spent, no room for a $0.023 request for a minute.
  SpendWindows spend(caps(0.05, 0, 0, 0));
  SpendWindows::Exhausted refused{Window::minute, 0.048, 0.05, 60s};
  refused.need_usd = 0.023;
  spend.remember_spent(refused, kT0);
  EXPECT_TRUE(spend.reserve(23'000, kT0 + 1s));
  // At least $0.027 stays spent: $0.002 fits beside it, as far as this replica knows.
  EXPECT_FALSE(spend.reserve(2'000, kT0 + 1s));
}

TEST(SpendWindows, AnUncappedBudgetReservesNothing) {
  SpendWindows spend(caps(0, 0, 0, 0));
  EXPECT_FALSE(spend.reserve(1'000'000'000, kT0));
  EXPECT_DOUBLE_EQ(spend.held(), 0);
}

}  // namespace
}  // namespace switchyard::state
