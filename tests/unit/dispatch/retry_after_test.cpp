// How long an upstream asked to wait: seconds, milliseconds, and the three HTTP-date formats.
#include <gtest/gtest.h>

#include "switchyard/dispatch/retry_after.hpp"

namespace switchyard::dispatch {
namespace {

using std::chrono::system_clock;

// 1994-11-06 08:49:37 UTC, RFC 9110's example date.
const system_clock::time_point kExample = system_clock::from_time_t(784111777);

TEST(HttpDate, ReadsAllThreeFormatsOfRfc9110) {
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), kExample);
  EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), kExample);
  EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994"), kExample);
}

TEST(HttpDate, RejectsWhatIsNotADate) {
  for (const char* text : {"", "soon", "Sun, 06 Nov 1994 08:49:37 UTC",
                           "Sun, 31 Feb 2025 00:00:00 GMT", "Sun, 06 Foo 1994 08:49:37 GMT",
                           "Sun, 06 Nov 1994 25:49:37 GMT", "Sun Nov  6 08:49 1994"}) {
    EXPECT_FALSE(parse_http_date(text)) << text;
  }
}

// Found by tests/fuzz/header_values_fuzz: the year 997 overflowed the clock's nanoseconds.
TEST(HttpDate, RejectsAYearTheClockCannotHold) {
  EXPECT_FALSE(parse_http_date("Sun Nov  6 08:49:37 0997"));
  EXPECT_FALSE(parse_http_date("Sun, 06 Nov 9999 08:49:37 GMT"));
  EXPECT_FALSE(parse_retry_after("Sun, 06 Nov 9999 08:49:37 GMT", kExample));
  EXPECT_TRUE(parse_http_date("Sun, 06 Nov 2150 08:49:37 GMT"));
}

TEST(RetryAfter, ReadsDelaySecondsAndDatesRelativeToNow) {
  EXPECT_EQ(parse_retry_after("7", kExample), milliseconds{7000});
  EXPECT_EQ(parse_retry_after(" 0 ", kExample), milliseconds{0});
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:50:07 GMT", kExample), milliseconds{30000});
  // A date already past asks for no wait at all.
  EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", kExample), milliseconds{0});
  EXPECT_FALSE(parse_retry_after("", kExample));
  EXPECT_FALSE(parse_retry_after("-5", kExample));
  EXPECT_FALSE(parse_retry_after("1.5", kExample));
  // Absurd values are capped rather than overflowing.
  EXPECT_EQ(parse_retry_after("99999999999999999999", kExample), milliseconds{1'000'000'000'000});
}

TEST(RetryAfter, ReadsMillisecondsWithOrWithoutAFraction) {
  EXPECT_EQ(parse_retry_after_ms("1500"), milliseconds{1500});
  EXPECT_EQ(parse_retry_after_ms("20.75"), milliseconds{20});
  EXPECT_FALSE(parse_retry_after_ms("soon"));
  EXPECT_FALSE(parse_retry_after_ms("1.x"));
  EXPECT_FALSE(parse_retry_after_ms(""));
}

}  // namespace
}  // namespace switchyard::dispatch
