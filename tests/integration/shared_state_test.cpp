// Rate limits and spend budgets shared through a real redis-server on loopback: what holds across
// gateway replicas (each its own redis::Client and SharedState), and what happens when Redis goes.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>
#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "async_testing.hpp"
#include "harness.hpp"
#include "switchyard/async.hpp"
#include "switchyard/redis/client.hpp"
#include "switchyard/state/shared_state.hpp"

namespace switchyard::testing {
namespace {

using state::SharedState;
using Clock = std::chrono::steady_clock;
using config::Window;

double seconds(std::chrono::nanoseconds d) {
  return std::chrono::duration<double>(d).count();
}

std::chrono::milliseconds since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
}

// A gateway replica: its own connection to Redis and its own SharedState on it.
struct Replica {
  Replica(Executor ex, const RedisServer& server)
      : client(ex, parse_url(server.url()), fast_options()), shared(ex, client, "switchyard:") {
    client.start();
  }
  redis::Client client;
  SharedState shared;
};

config::Budget budget_of(double minute, double hour = 0, double day = 0, double month = 0) {
  config::Budget budget;
  budget.usd = {minute, hour, day, month};
  return budget;
}

// The spend Redis reports, once the background charges have landed: polls until it is
// `expected` (to the micro-dollar).
// (Views and references, to named objects: no temporary spans a co_await.)
Awaitable<bool> spent_reaches(SharedState& shared, std::string_view name, Window window,
                              const config::Budget& budget, double expected) {
  const auto deadline = Clock::now() + 5s;
  std::optional<double> last;
  for (;;) {
    last = co_await shared.spent(name, window, budget);
    if (last && std::abs(*last - expected) < 1e-9) co_return true;
    if (Clock::now() >= deadline) break;
    co_await sleep_for(10ms);
  }
  ADD_FAILURE() << name << " spent " << (last ? std::to_string(*last) : "(no answer)")
                << ", expected " << expected;
  co_return false;
}

// The usage Redis reports (a take of 0 units), once a background correction has landed.
Awaitable<std::optional<SharedState::Take>> usage_when(
    SharedState& shared, std::string name, std::uint64_t per_minute,
    std::function<bool(const state::RateLimiter::Usage&)> condition, std::string what) {
  const auto deadline = Clock::now() + 5s;
  std::optional<SharedState::Take> last;
  for (;;) {
    last = co_await shared.take(name, per_minute, 0);
    if (last && condition(last->usage)) co_return last;
    if (Clock::now() >= deadline) break;
    co_await sleep_for(10ms);
  }
  ADD_FAILURE() << "not within 5 s: " << what;
  co_return std::nullopt;
}

TEST(SharedState, GrantsExactlyTheRpmThenWaitsOneRefillInterval) {
  TempDir dir;
  RedisServer server(dir);
  run_async([&](Executor ex) -> Awaitable<void> {
    Replica replica(ex, server);
    co_await until([&] { return replica.client.connected(); }, "connected");

    std::vector<SharedState::Take> takes;
    for (int i = 0; i < 20; ++i) {
      const auto take = co_await replica.shared.take("key:alice", 5, 1);
      CO_ASSERT(take, "take " << i << " answered");
      takes.push_back(*take);
    }
    int granted = 0;
    for (std::size_t i = 0; i < takes.size(); ++i) {
      EXPECT_EQ(takes[i].granted, i < 5) << "take " << i;
      if (takes[i].granted) ++granted;
    }
    EXPECT_EQ(granted, 5);
    // A burst of the whole minute's 5, then one every 12 s.
    EXPECT_NEAR(seconds(takes[5].wait), 12.0, 1.0);
    EXPECT_EQ(takes[0].wait, std::chrono::nanoseconds::zero());
    EXPECT_EQ(replica.shared.stats().calls, 20u);
    EXPECT_EQ(replica.shared.stats().failures, 0u);
  });
}

TEST(SharedState, TwoReplicasShareOneLimit) {
  TempDir dir;
  RedisServer server(dir);
  run_async([&](Executor ex) -> Awaitable<void> {
    Replica a(ex, server), b(ex, server);
    co_await until([&] { return a.client.connected() && b.client.connected(); }, "connected");

    // Taking turns: 10 takes against rpm 4, exactly 4 granted in all.
    int granted_a = 0, granted_b = 0;
    for (int i = 0; i < 5; ++i) {
      const auto from_a = co_await a.shared.take("key:shared", 4, 1);
      CO_ASSERT(from_a, "a answered");
      if (from_a->granted) ++granted_a;
      const auto from_b = co_await b.shared.take("key:shared", 4, 1);
      CO_ASSERT(from_b, "b answered");
      if (from_b->granted) ++granted_b;
    }
    EXPECT_EQ(granted_a + granted_b, 4);
    EXPECT_EQ(granted_a, 2);
    EXPECT_EQ(granted_b, 2);

    // All at once, pipelined on both connections: still exactly the limit.
    constexpr int kEach = 25;
    int answered = 0, granted = 0, unanswered = 0;
    const std::array<SharedState*, 2> replicas{&a.shared, &b.shared};
    for (int i = 0; i < kEach; ++i) {
      for (SharedState* shared : replicas) {
        asio::co_spawn(
            ex,
            [&, shared]() -> Awaitable<void> {
              const auto take = co_await shared->take("provider:burst", 7, 1);
              if (!take) ++unanswered;
              if (take && take->granted) ++granted;
              ++answered;
            },
            asio::detached);
      }
    }
    co_await until([&] { return answered == 2 * kEach; }, "every take answered");
    EXPECT_EQ(unanswered, 0);
    EXPECT_EQ(granted, 7);
  });
}

TEST(SharedState, UnitsAboveTheLimitNeverFit) {
  TempDir dir;
  RedisServer server(dir);
  run_async([&](Executor ex) -> Awaitable<void> {
    Replica replica(ex, server);
    co_await until([&] { return replica.client.connected(); }, "connected");

    const auto too_many = co_await replica.shared.take("key:tpm", 100, 101);
    CO_ASSERT(too_many, "answered");
    EXPECT_FALSE(too_many->granted);
    EXPECT_EQ(too_many->wait, std::chrono::nanoseconds::max());
    EXPECT_EQ(too_many->usage.limit, 100u);
    EXPECT_EQ(too_many->usage.remaining, 100u);  // nothing was taken
    EXPECT_EQ(too_many->usage.reset, std::chrono::nanoseconds::zero());

    const auto all = co_await replica.shared.take("key:tpm", 100, 100);
    CO_ASSERT(all, "answered");
    EXPECT_TRUE(all->granted);
    EXPECT_EQ(all->usage.remaining, 0u);

    // Unlimited needs no Redis at all.
    const auto calls = replica.shared.stats().calls;
    const auto unlimited = co_await replica.shared.take("key:free", 0, 1'000'000);
    CO_ASSERT(unlimited, "answered");
    EXPECT_TRUE(unlimited->granted);
    EXPECT_EQ(unlimited->usage.limit, 0u);
    EXPECT_EQ(replica.shared.stats().calls, calls);
  });
}

TEST(SharedState, UsageReportsLimitRemainingAndReset) {
  TempDir dir;
  RedisServer server(dir);
  run_async([&](Executor ex) -> Awaitable<void> {
    Replica replica(ex, server);
    co_await until([&] { return replica.client.connected(); }, "connected");

    const auto four = co_await replica.shared.take("key:usage", 10, 4);
    CO_ASSERT(four, "answered");
    EXPECT_TRUE(four->granted);
    EXPECT_EQ(four->usage.limit, 10u);
    EXPECT_EQ(four->usage.remaining, 6u);
    // 4 units of 6 s each are back in 24 s.
    EXPECT_NEAR(seconds(four->usage.reset), 24.0, 0.001);

    // A refill interval that is no whole number of microseconds (60 s / 7) is kept exactly.
    const auto burst = co_await replica.shared.take("key:seven", 7, 7);
    CO_ASSERT(burst, "answered");
    EXPECT_TRUE(burst->granted);
    EXPECT_NEAR(seconds(burst->usage.reset), 60.0, 0.001);
    const auto next = co_await replica.shared.take("key:seven", 7, 1);
    CO_ASSERT(next, "answered");
    EXPECT_FALSE(next->granted);
    EXPECT_NEAR(seconds(next->wait), 60.0 / 7, 0.5);
    EXPECT_EQ(next->usage.remaining, 0u);
  });
}

TEST(SharedState, LargeTokenLimitsStayExact) {
  TempDir dir;
  RedisServer server(dir);
  run_async([&](Executor ex) -> Awaitable<void> {
    Replica replica(ex, server);
    co_await until([&] { return replica.client.connected(); }, "connected");

    // 150M tokens a minute: past where the script counts in 1 µs ticks (10 µs here).
    const auto first = co_await replica.shared.take("provider:tpm", 150'000'000, 100'000'000);
    CO_ASSERT(first, "answered");
    EXPECT_TRUE(first->granted);
    EXPECT_EQ(first->usage.remaining, 50'000'000u);  // usage at the take's own instant
    EXPECT_NEAR(seconds(first->usage.reset), 40.0, 0.001);
    const auto second = co_await replica.shared.take("provider:tpm", 150'000'000, 100'000'000);
    CO_ASSERT(second, "answered");
    EXPECT_FALSE(second->granted);
    // 50M short at 2.5M a second.
    EXPECT_NEAR(seconds(second->wait), 20.0, 0.5);

    // The clamp of RateLimiter: one a nanosecond.
    const auto huge = co_await replica.shared.take("provider:huge", 100'000'000'000, 1);
    CO_ASSERT(huge, "answered");
    EXPECT_TRUE(huge->granted);
    EXPECT_EQ(huge->usage.limit, state::RateLimiter::kMaxPerMinute);
  });
}

TEST(SharedState, GiveBackReturnsCapacityButNeverMoreThanAFullAllowance) {
  TempDir dir;
  RedisServer server(dir);
  run_async([&](Executor ex) -> Awaitable<void> {
    Replica replica(ex, server);
    co_await until([&] { return replica.client.connected(); }, "connected");

    const auto all = co_await replica.shared.take("key:give", 3, 3);
    CO_ASSERT(all && all->granted, "granted");
    const auto refused = co_await replica.shared.take("key:give", 3, 1);
    CO_ASSERT(refused, "answered");
    EXPECT_FALSE(refused->granted);

    replica.shared.give_back("key:give", 3, 2);
    const auto back = co_await usage_when(
        replica.shared, "key:give", 3, [](const auto& u) { return u.remaining == 2; },
        "two units back");
    CO_ASSERT(back, "given back");
    for (int i = 0; i < 2; ++i) {
      const auto take = co_await replica.shared.take("key:give", 3, 1);
      CO_ASSERT(take, "answered");
      EXPECT_TRUE(take->granted) << i;
    }
    const auto empty = co_await replica.shared.take("key:give", 3, 1);
    CO_ASSERT(empty, "answered");
    EXPECT_FALSE(empty->granted);

    // Giving back more than is in use leaves nothing in use, not credit.
    replica.shared.give_back("key:give", 3, 100);
    const auto full = co_await usage_when(
        replica.shared, "key:give", 3, [](const auto& u) { return u.remaining == 3; }, "all back");
    CO_ASSERT(full, "given back");
    EXPECT_EQ(full->usage.reset, std::chrono::nanoseconds::zero());
    const auto four = co_await replica.shared.take("key:give", 3, 4);
    CO_ASSERT(four, "answered");
    EXPECT_FALSE(four->granted);
    EXPECT_EQ(replica.shared.stats().failures, 0u);
  });
}

TEST(SharedState, TakeAnywayGoesIntoDebtThatTheNextTakeWaitsOut) {
  TempDir dir;
  RedisServer server(dir);
  run_async([&](Executor ex) -> Awaitable<void> {
    Replica replica(ex, server);
    co_await until([&] { return replica.client.connected(); }, "connected");

    const auto all = co_await replica.shared.take("key:debt", 60, 60);
    CO_ASSERT(all && all->granted, "granted");
    // The real usage was 30 tokens above the estimate: booked without asking.
    replica.shared.take_anyway("key:debt", 60, 30);
    const auto in_debt = co_await usage_when(
        replica.shared, "key:debt", 60, [](const auto& u) { return u.reset > 80s; },
        "the debt booked");
    CO_ASSERT(in_debt, "booked");
    EXPECT_EQ(in_debt->usage.remaining, 0u);
    EXPECT_NEAR(seconds(in_debt->usage.reset), 90.0, 1.0);

    // 30 s of debt, then 1 s for the unit itself.
    const auto next = co_await replica.shared.take("key:debt", 60, 1);
    CO_ASSERT(next, "answered");
    EXPECT_FALSE(next->granted);
    EXPECT_NEAR(seconds(next->wait), 31.0, 1.0);
    EXPECT_EQ(replica.shared.stats().failures, 0u);
  });
}

TEST(SharedState, SpendIsExhaustedAfterTheChargeThatReachesTheCap) {
  TempDir dir;
  RedisServer server(dir);
  run_async([&](Executor ex) -> Awaitable<void> {
    Replica replica(ex, server);
    co_await until([&] { return replica.client.connected(); }, "connected");
    const config::Budget budget = budget_of(0.05);

    const auto fresh = co_await replica.shared.exhausted("key:alice", budget);
    CO_ASSERT(fresh, "answered");
    EXPECT_FALSE(fresh->has_value());

    replica.shared.charge("key:alice", budget, 0.03);
    co_await spent_reaches(replica.shared, "key:alice", Window::minute, budget, 0.03);
    const auto after_one = co_await replica.shared.exhausted("key:alice", budget);
    CO_ASSERT(after_one, "answered");
    EXPECT_FALSE(after_one->has_value());

    replica.shared.charge("key:alice", budget, 0.03);
    co_await spent_reaches(replica.shared, "key:alice", Window::minute, budget, 0.06);
    const auto after_two = co_await replica.shared.exhausted("key:alice", budget);
    CO_ASSERT(after_two && after_two->has_value(), "exhausted");
    const state::SpendWindows::Exhausted& full = **after_two;
    EXPECT_EQ(full.window, Window::minute);
    EXPECT_NEAR(full.spent_usd, 0.06, 1e-9);
    EXPECT_EQ(full.cap_usd, 0.05);
    EXPECT_GE(full.retry_after, 1s);
    EXPECT_LE(full.retry_after, 60s);

    replica.shared.charge("key:alice", budget, 0.03);
    co_await spent_reaches(replica.shared, "key:alice", Window::minute, budget, 0.09);
    const auto after_three = co_await replica.shared.exhausted("key:alice", budget);
    CO_ASSERT(after_three && after_three->has_value(), "exhausted");
    EXPECT_EQ((*after_three)->window, Window::minute);
    EXPECT_EQ(replica.shared.stats().failures, 0u);
  });
}

TEST(SharedState, ReportsTheFirstWindowWhoseCapIsReached) {
  TempDir dir;
  RedisServer server(dir);
  run_async([&](Executor ex) -> Awaitable<void> {
    Replica replica(ex, server);
    co_await until([&] { return replica.client.connected(); }, "connected");
    const config::Budget budget = budget_of(10.0, 0.5, 20.0, 100.0);

    replica.shared.charge("route:chat", budget, 0.6);
    co_await spent_reaches(replica.shared, "route:chat", Window::month, budget, 0.6);
    const auto answer = co_await replica.shared.exhausted("route:chat", budget);
    CO_ASSERT(answer && answer->has_value(), "exhausted");
    const state::SpendWindows::Exhausted& full = **answer;
    EXPECT_EQ(full.window, Window::hour);
    EXPECT_NEAR(full.spent_usd, 0.6, 1e-9);
    EXPECT_EQ(full.cap_usd, 0.5);
    // The charge's one-minute slot leaves the hour 59 to 60 minutes from now.
    EXPECT_GE(full.retry_after, 59min);
    EXPECT_LE(full.retry_after, 60min);
  });
}

TEST(SharedState, ChargesAreRoundedUpToWholeMicroDollars) {
  TempDir dir;
  RedisServer server(dir);
  run_async([&](Executor ex) -> Awaitable<void> {
    Replica replica(ex, server);
    co_await until([&] { return replica.client.connected(); }, "connected");
    const config::Budget budget = budget_of(1.0);

    replica.shared.charge("key:round", budget, 0.1);  // 100000.00000000001 µUSD in doubles
    replica.shared.charge("key:round", budget, 1e-9);
    replica.shared.charge("key:round", budget, 0);  // ignored, like NaN and negatives
    replica.shared.charge("key:round", budget, -1);
    co_await spent_reaches(replica.shared, "key:round", Window::minute, budget, 0.100001);
  });
}

TEST(SharedState, SpendChargedByOneReplicaIsSeenByTheOther) {
  TempDir dir;
  RedisServer server(dir);
  run_async([&](Executor ex) -> Awaitable<void> {
    Replica a(ex, server), b(ex, server);
    co_await until([&] { return a.client.connected() && b.client.connected(); }, "connected");
    const config::Budget budget = budget_of(1.0, 5.0);

    a.shared.charge("key:team", budget, 0.02);
    co_await spent_reaches(b.shared, "key:team", Window::minute, budget, 0.02);
    co_await spent_reaches(b.shared, "key:team", Window::hour, budget, 0.02);
    b.shared.charge("key:team", budget, 0.99);
    co_await spent_reaches(a.shared, "key:team", Window::minute, budget, 1.01);
    const auto answer = co_await a.shared.exhausted("key:team", budget);
    CO_ASSERT(answer && answer->has_value(), "exhausted for a");
    EXPECT_EQ((*answer)->window, Window::minute);
  });
}

// A reservation as LimitKeeper makes one: an id from this replica, `micro` held for `ttl`.
struct Held {
  std::string id;
  std::uint64_t micro;
};

Awaitable<std::optional<std::optional<state::SpendWindows::Exhausted>>> reserve(
    Replica& replica, std::string_view name, const config::Budget& budget, std::uint64_t micro,
    std::chrono::milliseconds ttl, Held& held) {
  held = {replica.shared.reservation_id(), micro};
  return replica.shared.reserve(name, budget, micro, held.id, ttl);
}

TEST(SharedState, ReservationsHoldRoomUntilSettledAndSayWhatTheyHold) {
  TempDir dir;
  RedisServer server(dir);
  run_async([&](Executor ex) -> Awaitable<void> {
    Replica a(ex, server), b(ex, server);
    co_await until([&] { return a.client.connected() && b.client.connected(); }, "connected");
    const config::Budget budget = budget_of(1.0);
    Held first, second, third;

    const auto granted = co_await reserve(a, "route:r", budget, 600'000, 60s, first);
    CO_ASSERT(granted, "answered");
    EXPECT_FALSE(granted->has_value());
    // On the other replica, $0.60 more does not fit beside it.
    const auto refused = co_await reserve(b, "route:r", budget, 600'000, 60s, second);
    CO_ASSERT(refused && refused->has_value(), "refused");
    EXPECT_EQ((*refused)->window, Window::minute);
    EXPECT_NEAR((*refused)->spent_usd, 0, 1e-9);
    EXPECT_NEAR((*refused)->held_usd, 0.6, 1e-9);
    EXPECT_EQ((*refused)->retry_after, 1s);

    // a's request cost $0.25: charged, and its $0.60 released.
    a.shared.settle("route:r", budget, 0.25, first.id, first.micro);
    co_await spent_reaches(b.shared, "route:r", Window::minute, budget, 0.25);
    const auto now_fits = co_await reserve(b, "route:r", budget, 600'000, 60s, second);
    CO_ASSERT(now_fits, "answered");
    EXPECT_FALSE(now_fits->has_value());
    // 0.25 spent + 0.60 held + 0.15 = the cap exactly.
    const auto fills = co_await reserve(a, "route:r", budget, 150'000, 60s, third);
    CO_ASSERT(fills, "answered");
    EXPECT_FALSE(fills->has_value());
    b.shared.settle("route:r", budget, 0, second.id, second.micro);  // failed: given back
    a.shared.settle("route:r", budget, 0, third.id, third.micro);
    co_await spent_reaches(a.shared, "route:r", Window::minute, budget, 0.25);
    // Nothing is held any more: the reservation keys are gone.
    redis::Client inspector(ex, parse_url(server.url()), fast_options());
    inspector.start();
    co_await until([&] { return inspector.connected(); }, "connected");
    const auto deadline = Clock::now() + 5s;
    long long exists = 1;
    while (exists != 0 && Clock::now() < deadline) {
      const redis::Result e =
          co_await inspector.command("EXISTS", "switchyard:{spend:route:r}:reservations",
                                     "switchyard:{spend:route:r}:reserved");
      CO_ASSERT(e, e.error);
      exists = e.reply->integer;
      if (exists != 0) co_await sleep_for(10ms);
    }
    EXPECT_EQ(exists, 0);
  });
}

TEST(SharedState, AReservationWhoseReplicaVanishedExpiresAtItsDeadline) {
  TempDir dir;
  RedisServer server(dir);
  run_async([&](Executor ex) -> Awaitable<void> {
    Replica a(ex, server), b(ex, server);
    co_await until([&] { return a.client.connected() && b.client.connected(); }, "connected");
    const config::Budget budget = budget_of(0, 0, 1.0);
    Held lost, later;
    // a reserves and never settles (killed mid-request).
    const auto granted = co_await reserve(a, "key:gone", budget, 900'000, 400ms, lost);
    CO_ASSERT(granted && !granted->has_value(), "reserved");
    const auto start = Clock::now();
    const auto held = co_await reserve(b, "key:gone", budget, 200'000, 60s, later);
    CO_ASSERT(held && held->has_value(), "refused while held");
    // Once the deadline has passed, the room is back: no refusal for a hold nobody settles.
    std::optional<std::optional<state::SpendWindows::Exhausted>> answer;
    do {
      co_await sleep_for(20ms);
      answer = co_await reserve(b, "key:gone", budget, 200'000, 60s, later);
      CO_ASSERT(answer, "answered");
    } while (answer->has_value() && since(start) < 5s);
    EXPECT_FALSE(answer->has_value());
    EXPECT_GE(since(start), 300ms);
  });
}

TEST(SharedState, ReplicasReservingAtOnceSpendExactlyTheCap) {
  TempDir dir;
  RedisServer server(dir);
  run_async([&](Executor ex) -> Awaitable<void> {
    // Three replicas, eight requests in flight each, every request reserving $0.01 and costing
    // that: they stop when the budget is spent, having spent it to the micro-dollar.
    std::vector<std::unique_ptr<Replica>> replicas;
    for (int i = 0; i < 3; ++i) replicas.push_back(std::make_unique<Replica>(ex, server));
    co_await until(
        [&] {
          return std::all_of(replicas.begin(), replicas.end(),
                             [](const auto& r) { return r->client.connected(); });
        },
        "connected");
    const config::Budget budget = budget_of(0, 1.0);
    int admitted = 0, running = 0;
    const auto request_loop = [&](Replica& replica) -> Awaitable<void> {
      ++running;
      for (;;) {
        Held held;
        const auto answer = co_await reserve(replica, "route:race", budget, 10'000, 60s, held);
        if (!answer) break;
        if (answer->has_value()) {
          if ((*answer)->held_usd <= 0) break;  // spent
          co_await sleep_for(1ms);              // others hold the rest
          continue;
        }
        ++admitted;
        co_await sleep_for(2ms);  // the request in flight
        replica.shared.settle("route:race", budget, 0.01, held.id, held.micro);
      }
      --running;
    };
    for (auto& replica : replicas)
      for (int i = 0; i < 8; ++i) asio::co_spawn(ex, request_loop(*replica), asio::detached);
    co_await until([&] { return running == 0 && admitted > 0; }, "all requests done", 60s);
    EXPECT_EQ(admitted, 100);
    co_await spent_reaches(replicas[0]->shared, "route:race", Window::hour, budget, 1.0);
  });
}

TEST(SharedState, AnUncappedWindowReadsZero) {
  TempDir dir;
  RedisServer server(dir);
  run_async([&](Executor ex) -> Awaitable<void> {
    Replica replica(ex, server);
    co_await until([&] { return replica.client.connected(); }, "connected");
    const config::Budget budget = budget_of(0, 2.0);

    replica.shared.charge("key:hourly", budget, 1.5);
    co_await spent_reaches(replica.shared, "key:hourly", Window::hour, budget, 1.5);
    // Named: GCC 12 cannot keep an initializer list alive across a co_await.
    const std::array<Window, 3> uncapped{Window::minute, Window::day, Window::month};
    for (const Window window : uncapped) {
      const auto spent = co_await replica.shared.spent("key:hourly", window, budget);
      CO_ASSERT(spent, "answered");
      EXPECT_EQ(*spent, 0.0);
    }
    const redis::Result minute =
        co_await replica.client.command("EXISTS", "switchyard:{spend:key:hourly}:minute");
    CO_ASSERT(minute, minute.error);
    EXPECT_EQ(minute.reply->integer, 0);

    // Nothing capped: never exhausted, without asking Redis.
    const auto calls = replica.shared.stats().calls;
    const config::Budget uncapped_budget;  // named: a temporary must not span a co_await
    const auto none = co_await replica.shared.exhausted("key:free", uncapped_budget);
    CO_ASSERT(none, "answered");
    EXPECT_FALSE(none->has_value());
    EXPECT_EQ(replica.shared.stats().calls, calls);
  });
}

TEST(SharedState, BackgroundWorkOutlivesTheSharedStateThatSentIt) {
  TempDir dir;
  RedisServer server(dir);
  run_async([&](Executor ex) -> Awaitable<void> {
    Replica replica(ex, server);
    co_await until([&] { return replica.client.connected(); }, "connected");
    const config::Budget budget = budget_of(1.0);

    {
      // A SharedState dropped (a config reload, say) with its charge still in flight.
      SharedState short_lived(ex, replica.client, "switchyard:");
      short_lived.charge("key:reload", budget, 0.4);
      short_lived.take_anyway("key:reload", 10, 3);
    }
    co_await spent_reaches(replica.shared, "key:reload", Window::minute, budget, 0.4);
    const auto usage = co_await usage_when(
        replica.shared, "key:reload", 10, [](const auto& u) { return u.remaining == 7; },
        "the correction booked");
    EXPECT_TRUE(usage);
  });
}

TEST(SharedState, AnswersNothingAtOnceWhileRedisIsDownThenRecovers) {
  TempDir dir;
  RedisServer server(dir);
  run_async([&](Executor ex) -> Awaitable<void> {
    Replica replica(ex, server);
    co_await until([&] { return replica.client.connected(); }, "connected");
    const config::Budget budget = budget_of(1.0);

    const auto before = co_await replica.shared.take("key:down", 10, 1);
    CO_ASSERT(before && before->granted, "granted");

    server.kill();
    for (int i = 0; i < 5; ++i) {
      const auto start = Clock::now();
      const auto take = co_await replica.shared.take("key:down", 10, 1);
      EXPECT_FALSE(take) << i;
      EXPECT_LT(since(start), 300ms) << i;
      const auto start_exhausted = Clock::now();
      const auto exhausted = co_await replica.shared.exhausted("key:down", budget);
      EXPECT_FALSE(exhausted) << i;
      EXPECT_LT(since(start_exhausted), 300ms) << i;
      const auto spent = co_await replica.shared.spent("key:down", Window::minute, budget);
      EXPECT_FALSE(spent) << i;
    }
    // Background work fails too, and is counted.
    const auto failures = replica.shared.stats().failures;
    EXPECT_EQ(failures, 15u);
    replica.shared.give_back("key:down", 10, 1);
    replica.shared.take_anyway("key:down", 10, 1);
    replica.shared.charge("key:down", budget, 0.5);
    co_await until([&] { return replica.shared.stats().failures == failures + 3; },
                   "background failures counted");

    server.restart();
    const auto deadline = Clock::now() + 10s;
    std::optional<SharedState::Take> after;
    while (!after && Clock::now() < deadline) {
      after = co_await replica.shared.take("key:down", 10, 1);
      if (!after) co_await sleep_for(10ms);
    }
    CO_ASSERT(after, "answered after the restart");
    EXPECT_TRUE(after->granted);
    EXPECT_EQ(after->usage.remaining, 9u);  // a new, empty server
    const auto exhausted = co_await replica.shared.exhausted("key:down", budget);
    CO_ASSERT(exhausted, "answered after the restart");
    EXPECT_FALSE(exhausted->has_value());
  });
}

TEST(SharedState, KeysCarryHashTagsAndExpire) {
  TempDir dir;
  RedisServer server(dir);
  run_async([&](Executor ex) -> Awaitable<void> {
    Replica replica(ex, server);
    redis::Client inspector(ex, parse_url(server.url()), fast_options());
    inspector.start();
    co_await until([&] { return replica.client.connected() && inspector.connected(); },
                   "connected");
    const config::Budget budget = budget_of(1, 10, 100, 1000);

    const auto take = co_await replica.shared.take("key:k", 10, 1);
    CO_ASSERT(take && take->granted, "granted");
    replica.shared.charge("key:k", budget, 0.25);
    co_await spent_reaches(replica.shared, "key:k", Window::month, budget, 0.25);

    const redis::Result keys = co_await inspector.command("KEYS", "*");
    CO_ASSERT(keys, keys.error);
    std::set<std::string> names;
    for (const redis::Reply& key : keys.reply->elements) names.insert(key.str);
    const std::set<std::string> expected{
        "switchyard:{limit:key:k}", "switchyard:{spend:key:k}:minute",
        "switchyard:{spend:key:k}:hour", "switchyard:{spend:key:k}:day",
        "switchyard:{spend:key:k}:month"};
    EXPECT_EQ(names, expected);

    // Each key lives no longer than what it holds matters: a unit of rpm 10 is back in 6 s, a
    // window's spend leaves it within the window's length.
    const std::vector<std::pair<std::string, long long>> ttls{
        {"switchyard:{limit:key:k}", 6'001},
        {"switchyard:{spend:key:k}:minute", 60'000},
        {"switchyard:{spend:key:k}:hour", 3'600'000},
        {"switchyard:{spend:key:k}:day", 86'400'000},
        {"switchyard:{spend:key:k}:month", 2'592'000'000}};
    for (const auto& ttl : ttls) {
      const redis::Result pttl = co_await inspector.command("PTTL", ttl.first);
      CO_ASSERT(pttl, pttl.error);
      EXPECT_GT(pttl.reply->integer, 0) << ttl.first;
      EXPECT_LE(pttl.reply->integer, ttl.second) << ttl.first;
    }

    // The limit's state: the theoretical arrival time in µs and its fraction.
    const redis::Result tat = co_await inspector.command("HGET", "switchyard:{limit:key:k}", "tat");
    CO_ASSERT(tat, tat.error);
    EXPECT_EQ(tat.reply->type, redis::Reply::Type::string);
    EXPECT_EQ(tat.reply->str.find_first_not_of("0123456789"), std::string::npos) << tat.reply->str;

    // An idle limit disappears once all of it is back (rpm 600: 100 ms a unit).
    const auto quick = co_await replica.shared.take("key:quick", 600, 1);
    CO_ASSERT(quick && quick->granted, "granted");
    const auto gone_by = Clock::now() + 5s;
    long long exists = 1;
    while (exists == 1 && Clock::now() < gone_by) {
      const redis::Result r = co_await inspector.command("EXISTS", "switchyard:{limit:key:quick}");
      CO_ASSERT(r, r.error);
      exists = r.reply->integer;
      if (exists == 1) co_await sleep_for(10ms);
    }
    EXPECT_EQ(exists, 0);
    // Giving all of it back deletes it at once.
    const auto given = co_await replica.shared.take("key:given", 10, 2);
    CO_ASSERT(given && given->granted, "granted");
    replica.shared.give_back("key:given", 10, 2);
    co_await usage_when(
        replica.shared, "key:given", 10, [](const auto& u) { return u.remaining == 10; },
        "given back");
    const redis::Result given_key =
        co_await inspector.command("EXISTS", "switchyard:{limit:key:given}");
    CO_ASSERT(given_key, given_key.error);
    EXPECT_EQ(given_key.reply->integer, 0);
  });
}

}  // namespace
}  // namespace switchyard::testing
