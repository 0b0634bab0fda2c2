// The requests-per-minute limiter: exact bursts, steady refill, and exactness across threads.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "switchyard/state/rate_limiter.hpp"

namespace switchyard::state {
namespace {

using namespace std::chrono_literals;
const RateLimiter::Time kT0 = RateLimiter::Time{} + 1000h;

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

TEST(RateLimiter, ZeroMeansNoLimit) {
  RateLimiter limiter(0);
  EXPECT_FALSE(limiter.limited());
  for (int i = 0; i < 1000; ++i) EXPECT_FALSE(limiter.try_acquire(kT0));
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

}  // namespace
}  // namespace switchyard::state
