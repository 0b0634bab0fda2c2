// Waiting between tries: full-jitter backoff, and the delays upstreams ask for in their headers.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>
#include <string>

#include "switchyard/dispatch/backoff.hpp"
#include "switchyard/jitter.hpp"

namespace switchyard::dispatch {
namespace {

using std::chrono::system_clock;
using namespace std::chrono_literals;

// The largest double below 1: what a generator's "just under 1" draw looks like.
const double kAlmostOne = std::nextafter(1.0, 0.0);

// 2024-05-01T12:00:00Z.
const system_clock::time_point kNow = std::chrono::sys_days{std::chrono::year{2024} / 5 / 1} + 12h;

// Response headers for upstream_retry_delay, looked up by lower-case name.
struct Headers {
  std::map<std::string, std::string, std::less<>> values;
  HeaderLookup lookup() const {
    return [this](std::string_view name) -> std::string_view {
      const auto it = values.find(name);
      return it == values.end() ? std::string_view{} : std::string_view{it->second};
    };
  }
  std::optional<Millis> delay() const { return upstream_retry_delay(lookup(), kNow); }
};

TEST(FullJitter, StaysWithinBaseTimesTwoToTheRetryCappedAtCap) {
  const Millis base{100}, cap{10'000};
  for (unsigned retry = 0; retry < 200; ++retry) {
    const Millis bound = std::min(cap, Millis{100LL << std::min(retry, 20u)});
    EXPECT_EQ(full_jitter(retry, base, cap, 0.0), Millis{0}) << retry;
    EXPECT_EQ(full_jitter(retry, base, cap, kAlmostOne), bound) << retry;
    EXPECT_LE(full_jitter(retry, base, cap, 0.5), bound) << retry;
  }
}

TEST(FullJitter, NeverOverflowsForHugeRetriesOrDurations) {
  const Millis huge{std::numeric_limits<Millis::rep>::max() / 2};
  for (unsigned retry : {62u, 63u, 64u, 65u, 1000u, std::numeric_limits<unsigned>::max()}) {
    EXPECT_EQ(full_jitter(retry, Millis{1}, Millis{30'000}, kAlmostOne), Millis{30'000}) << retry;
    // A double carries 53 bits, so near 2^62 ms the top draw lands within a part in 10^15.
    const Millis top = full_jitter(retry, huge, huge, kAlmostOne);
    EXPECT_LE(top, huge) << retry;
    EXPECT_GT(top, huge - Millis{huge.count() / 1'000'000'000}) << retry;
    EXPECT_GE(full_jitter(retry, huge, huge, 0.25).count(), 0) << retry;
    EXPECT_LE(full_jitter(retry, huge, huge, 0.25), huge) << retry;
  }
}

TEST(FullJitter, DoublesTheBoundEachRetryUntilTheCap) {
  EXPECT_EQ(full_jitter(0, Millis{100}, Millis{1'000}, kAlmostOne), Millis{100});
  EXPECT_EQ(full_jitter(1, Millis{100}, Millis{1'000}, kAlmostOne), Millis{200});
  EXPECT_EQ(full_jitter(3, Millis{100}, Millis{1'000}, kAlmostOne), Millis{800});
  EXPECT_EQ(full_jitter(4, Millis{100}, Millis{1'000}, kAlmostOne), Millis{1'000});
  // Whole milliseconds uniform over [0, bound]: the draw is scaled by bound + 1.
  EXPECT_EQ(full_jitter(0, Millis{100}, Millis{1'000}, 0.5), Millis{50});
  EXPECT_EQ(full_jitter(2, Millis{100}, Millis{1'000}, 0.25), Millis{100});
}

TEST(FullJitter, AveragesHalfTheBoundOverUniformDraws) {
  std::mt19937 gen(42);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  const int kDraws = 100'000;
  double sum = 0;
  for (int i = 0; i < kDraws; ++i)
    sum += static_cast<double>(full_jitter(5, Millis{100}, Millis{60'000}, uniform(gen)).count());
  // Bound 3200 ms: the mean is 1600, its standard error about 3.
  EXPECT_NEAR(sum / kDraws, 1600.0, 30.0);
}

TEST(FullJitter, IsZeroWithoutABaseOrCap) {
  EXPECT_EQ(full_jitter(3, Millis{0}, Millis{1'000}, 0.9), Millis{0});
  EXPECT_EQ(full_jitter(3, Millis{100}, Millis{0}, 0.9), Millis{0});
}

TEST(GoDuration, ReadsOpenAiResetValues) {
  EXPECT_EQ(parse_go_duration("6m0s"), Millis{360'000});
  EXPECT_EQ(parse_go_duration("1.5s"), Millis{1'500});
  EXPECT_EQ(parse_go_duration("20ms"), Millis{20});
  EXPECT_EQ(parse_go_duration("1h2m3.5s"), Millis{3'723'500});
  EXPECT_EQ(parse_go_duration("0s"), Millis{0});
  EXPECT_EQ(parse_go_duration("0"), Millis{0});
  EXPECT_EQ(parse_go_duration("17.123ms"), Millis{18});  // a wait rounds up, never down
  EXPECT_EQ(parse_go_duration("1500us"), Millis{2});
  EXPECT_EQ(parse_go_duration("1000000ns"), Millis{1});
  EXPECT_EQ(parse_go_duration(".5s"), Millis{500});
  EXPECT_EQ(parse_go_duration("0.1s"), Millis{100});
  EXPECT_EQ(parse_go_duration(" 2s "), Millis{2'000});
}

TEST(GoDuration, RejectsWhatGoWouldNotParse) {
  for (const char* text :
       {"", "s", "1", "1.5", "-1s", "1x", "1s2", "abc", "1 s", ".s", "1..5s", "1sms"}) {
    EXPECT_FALSE(parse_go_duration(text)) << text;
  }
}

TEST(GoDuration, CapsAbsurdValuesInsteadOfOverflowing) {
  const auto huge = parse_go_duration("99999999999999999999999h");
  ASSERT_TRUE(huge);
  EXPECT_EQ(*huge, Millis{1'000'000'000'000});
}

TEST(Rfc3339, ReadsUtcOffsetsAndFractions) {
  EXPECT_EQ(parse_rfc3339("2024-05-01T12:00:30Z"), kNow + 30s);
  EXPECT_EQ(parse_rfc3339("2024-05-01t12:00:30z"), kNow + 30s);
  EXPECT_EQ(parse_rfc3339("2024-05-01T14:00:30+02:00"), kNow + 30s);
  EXPECT_EQ(parse_rfc3339("2024-05-01T06:30:30-05:30"), kNow + 30s);
  EXPECT_EQ(parse_rfc3339("2024-05-01T12:00:30.25Z"), kNow + 30250ms);
  EXPECT_EQ(parse_rfc3339("2024-05-01T12:00:00.000000001Z"), kNow + 1ns);
  EXPECT_EQ(parse_rfc3339("2024-04-30T23:59:59.5-12:00"), kNow - 500ms);
}

TEST(Rfc3339, RejectsWhatIsNotADateTime) {
  for (const char* text :
       {"", "2024-05-01", "2024-05-01T12:00:30", "2024-05-01T12:00Z", "2024-02-30T12:00:00Z",
        "2024-05-01T24:00:00Z", "2024-05-01T12:00:30.Z", "2024-05-01T12:00:30+0200",
        "2024-05-01T12:00:30+25:00", "2024/05/01T12:00:30Z", "Wed, 01 May 2024 12:00:30 GMT"}) {
    EXPECT_FALSE(parse_rfc3339(text)) << text;
  }
}

TEST(UpstreamRetryDelay, IsNulloptWithoutAnyUsableHeader) {
  EXPECT_FALSE(Headers{}.delay());
  EXPECT_FALSE((Headers{{{"retry-after", "soon"}, {"x-ratelimit-reset-tokens", "later"}}}.delay()));
}

TEST(UpstreamRetryDelay, PrefersRetryAfterMsThenRetryAfterThenResetHeaders) {
  Headers h{{{"retry-after-ms", "250"},
             {"retry-after", "3"},
             {"x-ratelimit-reset-requests", "9s"},
             {"x-ratelimit-remaining-requests", "0"}}};
  EXPECT_EQ(h.delay(), Millis{250});
  h.values.erase("retry-after-ms");
  EXPECT_EQ(h.delay(), Millis{3'000});
  h.values.erase("retry-after");
  EXPECT_EQ(h.delay(), Millis{9'000});
  // An unreadable header does not hide the next one.
  h.values["retry-after-ms"] = "x";
  h.values["retry-after"] = "Wed, 01 May 2024 12:00:05 GMT";
  EXPECT_EQ(h.delay(), Millis{5'000});
}

TEST(UpstreamRetryDelay, WaitsForTheLongestOpenAiLimitThatIsUsedUp) {
  Headers h{{{"x-ratelimit-reset-requests", "1s"},
             {"x-ratelimit-remaining-requests", "0"},
             {"x-ratelimit-reset-tokens", "6m0s"},
             {"x-ratelimit-remaining-tokens", "0"}}};
  EXPECT_EQ(h.delay(), Millis{360'000});
  // Only the requests limit is hit: its reset, however much sooner the tokens one is.
  h.values["x-ratelimit-remaining-tokens"] = "1200";
  h.values["x-ratelimit-reset-tokens"] = "20ms";
  EXPECT_EQ(h.delay(), Millis{1'000});
}

TEST(UpstreamRetryDelay, TakesTheSoonestResetWhenNoLimitSaysZero) {
  const Headers h{{{"x-ratelimit-reset-requests", "1s"},
                   {"x-ratelimit-remaining-requests", "4"},
                   {"x-ratelimit-reset-tokens", "150ms"},
                   {"x-ratelimit-remaining-tokens", "10"}}};
  EXPECT_EQ(h.delay(), Millis{150});
}

TEST(UpstreamRetryDelay, ReadsAnthropicResetTimesRelativeToNow) {
  Headers h{{{"anthropic-ratelimit-requests-reset", "2024-05-01T12:00:10Z"},
             {"anthropic-ratelimit-requests-remaining", "3"},
             {"anthropic-ratelimit-input-tokens-reset", "2024-05-01T12:00:40Z"},
             {"anthropic-ratelimit-input-tokens-remaining", "0"},
             {"anthropic-ratelimit-output-tokens-reset", "2024-05-01T14:00:20+02:00"},
             {"anthropic-ratelimit-output-tokens-remaining", "0"},
             {"anthropic-ratelimit-tokens-reset", "2024-05-01T12:00:05Z"},
             {"anthropic-ratelimit-tokens-remaining", "100"}}};
  EXPECT_EQ(h.delay(), Millis{40'000});
  h.values["anthropic-ratelimit-input-tokens-remaining"] = "7";
  EXPECT_EQ(h.delay(), Millis{20'000});
  h.values["anthropic-ratelimit-output-tokens-remaining"] = "7";
  EXPECT_EQ(h.delay(), Millis{5'000});
  // A reset already past asks for no wait.
  h.values["anthropic-ratelimit-tokens-reset"] = "2024-05-01T11:59:00Z";
  EXPECT_EQ(h.delay(), Millis{0});
}

TEST(UpstreamRetryDelay, ReadsTheIetfRatelimitResetAsDelaySeconds) {
  EXPECT_EQ((Headers{{{"ratelimit-reset", "12"}}}.delay()), Millis{12'000});
  EXPECT_EQ((Headers{{{"ratelimit-reset", "12"}, {"ratelimit-remaining", "0"}}}.delay()),
            Millis{12'000});
  // Delay-seconds only: the draft has no dates here.
  EXPECT_FALSE((Headers{{{"ratelimit-reset", "Wed, 01 May 2024 12:00:05 GMT"}}}.delay()));
}

}  // namespace
}  // namespace switchyard::dispatch
