// The per-minute limiter, for requests and for tokens: exact bursts, exact refill, all-or-nothing
// takes of many units, settling estimates afterwards, the numbers behind x-ratelimit-* headers,
// and exactness across threads.
#include <gtest/gtest.h>

#include <atomic>
#include <limits>
#include <thread>
#include <vector>

#include "switchyard/state/rate_limiter.hpp"

namespace switchyard::state {
namespace {

using namespace std::chrono_literals;
const RateLimiter::Time kT0 = RateLimiter::Time{} + 1000h;
constexpr auto kNever = std::chrono::nanoseconds::max();

TEST(RateLimiter, LetsAMinutesAllowanceThroughAtOnceAndThenSaysHowLongToWait) {
  RateLimiter limiter(60);  // one a second
  for (int i = 0; i < 60; ++i) EXPECT_FALSE(limiter.try_acquire(kT0)) << i;
  const auto wait = limiter.try_acquire(kT0);
  ASSERT_TRUE(wait);
  EXPECT_EQ(*wait, 1s);
  EXPECT_TRUE(limiter.try_acquire(kT0 + 999ms));  // a refused try takes nothing
  EXPECT_FALSE(limiter.try_acquire(kT0 + 1s));
  EXPECT_TRUE(limiter.try_acquire(kT0 + 1s));
  // A quiet minute refills the whole allowance, and no more.
  for (int i = 0; i < 60; ++i) EXPECT_FALSE(limiter.try_acquire(kT0 + 2min)) << i;
  EXPECT_TRUE(limiter.try_acquire(kT0 + 2min));
}

TEST(RateLimiter, AUnitComesBackAnIntervalAfterItWasTakenWhateverTheClockReads) {
  // 2 a minute, used up 16.25 s into a 30 s refill interval: the next one is a full interval
  // away, not at the next multiple of 30 s of the clock.
  RateLimiter limiter(2);
  const auto t = kT0 + 16250ms;
  ASSERT_FALSE(limiter.try_acquire(t));
  ASSERT_FALSE(limiter.try_acquire(t));
  const auto wait = limiter.try_acquire(t);
  ASSERT_TRUE(wait);
  EXPECT_EQ(*wait, 30s);
  EXPECT_TRUE(limiter.try_acquire(t + 29999ms));
  EXPECT_FALSE(limiter.try_acquire(t + 30s));
}

TEST(RateLimiter, ZeroMeansNoLimit) {
  RateLimiter limiter(0);
  EXPECT_FALSE(limiter.limited());
  EXPECT_EQ(limiter.limit(), 0u);
  for (int i = 0; i < 1000; ++i) EXPECT_FALSE(limiter.try_acquire(kT0, 1'000'000));
  const auto usage = limiter.usage(kT0);
  EXPECT_EQ(usage.limit, 0u);
  EXPECT_EQ(usage.remaining, 0u);
  EXPECT_EQ(usage.reset, 0ns);
}

TEST(RateLimiter, RefillsExactlyWhenTheLimitDoesNotDivideAMinute) {
  RateLimiter limiter(7);  // one every 8.571428571... s
  for (int i = 0; i < 7; ++i) EXPECT_FALSE(limiter.try_acquire(kT0)) << i;
  EXPECT_EQ(limiter.try_acquire(kT0), 8'571'428'572ns);  // the first whole nanosecond after
  EXPECT_EQ(limiter.usage(kT0 + 8'571'428'571ns).remaining, 0u);
  EXPECT_EQ(limiter.usage(kT0 + 8'571'428'572ns).remaining, 1u);
  EXPECT_EQ(limiter.usage(kT0).reset, 60s);
  // After exactly a minute the seven are back, and not an eighth.
  for (int i = 0; i < 7; ++i) EXPECT_FALSE(limiter.try_acquire(kT0 + 60s)) << i;
  EXPECT_TRUE(limiter.try_acquire(kT0 + 60s));
}

TEST(RateLimiter, TakesUnitsAllOrNothing) {
  RateLimiter limiter(1000);  // tokens per minute: one every 60 ms
  EXPECT_EQ(limiter.limit(), 1000u);
  EXPECT_FALSE(limiter.try_acquire(kT0, 600));
  // 500 more do not fit; the wait is until 100 have come back, and nothing was taken.
  EXPECT_EQ(limiter.try_acquire(kT0, 500), 6s);
  EXPECT_EQ(limiter.usage(kT0).remaining, 400u);
  EXPECT_FALSE(limiter.try_acquire(kT0, 400));
  EXPECT_EQ(limiter.try_acquire(kT0, 1), 60ms);
  EXPECT_FALSE(limiter.try_acquire(kT0 + 6s, 100));
  EXPECT_FALSE(limiter.try_acquire(kT0 + 6s, 0));  // nothing always fits
}

TEST(RateLimiter, NeverLetsThroughARequestLargerThanTheWholeAllowance) {
  RateLimiter limiter(1000);
  EXPECT_EQ(limiter.try_acquire(kT0, 1001), kNever);
  EXPECT_EQ(limiter.try_acquire(kT0 + 24h, std::numeric_limits<std::uint64_t>::max()), kNever);
  EXPECT_EQ(limiter.usage(kT0).remaining, 1000u);  // and took nothing
  EXPECT_FALSE(limiter.try_acquire(kT0, 1000));    // the whole allowance itself fits
}

TEST(RateLimiter, GiveBackReturnsUnusedUnitsButNeverMoreThanTheWholeAllowance) {
  RateLimiter limiter(1000);
  EXPECT_FALSE(limiter.try_acquire(kT0, 800));
  limiter.give_back(300);  // the estimate was 800, the real usage 500
  EXPECT_EQ(limiter.usage(kT0).remaining, 500u);
  limiter.give_back(10'000);  // more than is in use: the allowance is full, not overfull
  EXPECT_EQ(limiter.usage(kT0).remaining, 1000u);
  EXPECT_EQ(limiter.usage(kT0).reset, 0ns);
  EXPECT_FALSE(limiter.try_acquire(kT0, 1000));
  EXPECT_TRUE(limiter.try_acquire(kT0, 1));
}

TEST(RateLimiter, TakeAnywayGoesIntoDebtThatLaterRequestsWaitOut) {
  RateLimiter limiter(60);
  EXPECT_FALSE(limiter.try_acquire(kT0, 60));
  limiter.take_anyway(kT0, 30);  // the upstream reported 30 more than estimated
  const auto usage = limiter.usage(kT0);
  EXPECT_EQ(usage.remaining, 0u);
  EXPECT_EQ(usage.reset, 90s);
  EXPECT_EQ(limiter.try_acquire(kT0), 31s);
  EXPECT_TRUE(limiter.try_acquire(kT0 + 30s));
  EXPECT_FALSE(limiter.try_acquire(kT0 + 31s));
  // Booked on an idle limiter it is ordinary usage.
  RateLimiter idle(60);
  idle.take_anyway(kT0, 20);
  EXPECT_EQ(idle.usage(kT0).remaining, 40u);
}

TEST(RateLimiter, UsageGivesTheLimitWhatIsLeftAndWhenAllOfItIsBack) {
  RateLimiter limiter(600);  // one every 100 ms
  auto usage = limiter.usage(kT0);
  EXPECT_EQ(usage.limit, 600u);
  EXPECT_EQ(usage.remaining, 600u);
  EXPECT_EQ(usage.reset, 0ns);
  EXPECT_FALSE(limiter.try_acquire(kT0, 150));
  usage = limiter.usage(kT0);
  EXPECT_EQ(usage.remaining, 450u);
  EXPECT_EQ(usage.reset, 15s);
  usage = limiter.usage(kT0 + 5s);
  EXPECT_EQ(usage.remaining, 500u);
  EXPECT_EQ(usage.reset, 10s);
  usage = limiter.usage(kT0 + 15s);
  EXPECT_EQ(usage.remaining, 600u);
  EXPECT_EQ(usage.reset, 0ns);
}

TEST(RateLimiter, LargeLimitsAndHugeUnitsDoNotOverflow) {
  RateLimiter limiter(1'000'000'000);  // one every 60 ns
  EXPECT_FALSE(limiter.try_acquire(kT0, 1'000'000'000));
  EXPECT_EQ(limiter.try_acquire(kT0), 60ns);
  EXPECT_EQ(limiter.usage(kT0 + 30s).remaining, 500'000'000u);
  limiter.take_anyway(kT0, std::numeric_limits<std::uint64_t>::max());
  const auto usage = limiter.usage(kT0);
  EXPECT_EQ(usage.remaining, 0u);
  EXPECT_GT(usage.reset, 24h * 365 * 100);
  const auto wait = limiter.try_acquire(kT0);
  ASSERT_TRUE(wait);
  EXPECT_GT(*wait, 24h * 365 * 100);
  limiter.give_back(std::numeric_limits<std::uint64_t>::max());
  limiter.give_back(std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(limiter.usage(kT0).remaining, 1'000'000'000u);

  EXPECT_EQ(RateLimiter(std::numeric_limits<std::uint64_t>::max()).limit(),
            RateLimiter::kMaxPerMinute);
}

TEST(RateLimiter, IsExactAcrossThreads) {
  RateLimiter limiter(1000);
  std::atomic<int> granted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 500; ++i)
        if (!limiter.try_acquire(kT0)) granted.fetch_add(1);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(granted.load(), 1000);
}

TEST(RateLimiter, ThreadsRacingForATokenLimitUseItFullyAndNeverExceedIt) {
  constexpr std::uint64_t kLimit = 100'003;
  RateLimiter limiter(kLimit);
  std::atomic<std::uint64_t> granted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      const std::uint64_t big = 5 + t;  // differing sizes race for the same tokens
      for (;;) {
        if (!limiter.try_acquire(kT0, big)) {
          granted.fetch_add(big);
        } else if (!limiter.try_acquire(kT0, 1)) {
          granted.fetch_add(1);
        } else {
          break;  // not even one fits: the allowance is used up
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(granted.load(), kLimit);
  EXPECT_EQ(limiter.usage(kT0).remaining, 0u);
}

TEST(RateLimiter, ConcurrentTakeAnywayAndGiveBackBalanceExactly) {
  RateLimiter limiter(1'000'000);
  limiter.take_anyway(kT0, 400'000);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20'000; ++i) {
        limiter.take_anyway(kT0, 3 + t);
        limiter.give_back(3 + t);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(limiter.usage(kT0).remaining, 600'000u);
}

}  // namespace
}  // namespace switchyard::state
