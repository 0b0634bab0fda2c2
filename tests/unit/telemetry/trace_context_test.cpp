// W3C Trace Context: every traceparent the spec calls invalid is refused (and the gateway then
// starts its own trace), a later version is read as version 00, the traceparent the gateway
// writes reads back the same; tracestate is checked against the spec's grammar; ids are random
// and never the invalid all-zero value.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "switchyard/telemetry/trace_context.hpp"

namespace switchyard::telemetry {
namespace {

// The spec's own example.
constexpr std::string_view kValid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

TEST(TraceParent, ParsesTheSpecExample) {
  const auto tp = parse_traceparent(kValid);
  ASSERT_TRUE(tp);
  EXPECT_EQ(tp->trace.hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(tp->parent.hex(), "00f067aa0ba902b7");
  EXPECT_EQ(tp->flags, 0x01);
  EXPECT_TRUE(tp->sampled());
}

TEST(TraceParent, ReadsTheSampledFlagFromBitZeroOnly) {
  auto tp = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
  ASSERT_TRUE(tp);
  EXPECT_FALSE(tp->sampled());
  tp = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-fe");
  ASSERT_TRUE(tp);
  EXPECT_EQ(tp->flags, 0xfe);
  EXPECT_FALSE(tp->sampled());
}

TEST(TraceParent, RefusesEveryMalformedValueTheSpecNames) {
  const std::vector<std::string> invalid = {
      "",
      // version ff is forbidden, whatever follows
      "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      // version 00 is exactly 55 characters
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
      // uppercase hex anywhere
      "0A-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0A",
      // not hex
      "0x-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902bz-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",
      // all-zero ids
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
      // wrong separators or field widths
      "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7_01",
      "00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e47366-0f067aa0ba902b7-01",
      "000-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",
      // surrounding whitespace is the HTTP parser's to remove, not part of the value
      " 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 ",
      // a later version still needs the full 55 characters, then '-' or the end
      "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",
      "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
      "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01.what",
      // a later version's ids are still checked
      "cc-00000000000000000000000000000000-00f067aa0ba902b7-01-what",
  };
  for (const auto& value : invalid) EXPECT_FALSE(parse_traceparent(value)) << "'" << value << "'";
}

TEST(TraceParent, ReadsALaterVersionAsVersionZero) {
  auto tp = parse_traceparent("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09-what-the");
  ASSERT_TRUE(tp);
  EXPECT_EQ(tp->trace.hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(tp->parent.hex(), "00f067aa0ba902b7");
  EXPECT_EQ(tp->flags, 0x09);
  EXPECT_TRUE(tp->sampled());
  // Exactly 55 characters is fine too.
  EXPECT_TRUE(parse_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
  EXPECT_TRUE(parse_traceparent("fe-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-"));
}

TEST(TraceParent, RoundTripsWhatItFormats) {
  const TraceId trace = new_trace_id();
  const SpanId span = new_span_id();
  for (const std::uint8_t flags : {std::uint8_t{0x00}, std::uint8_t{0x01}, std::uint8_t{0xab}}) {
    const auto text = format_traceparent(trace, span, flags);
    const std::string_view value(text.data(), text.size());
    EXPECT_EQ(value.substr(0, 3), "00-");
    EXPECT_EQ(value.substr(3, 32), trace.hex());
    EXPECT_EQ(value.substr(36, 16), span.hex());
    const auto tp = parse_traceparent(value);
    ASSERT_TRUE(tp) << value;
    EXPECT_EQ(tp->trace, trace);
    EXPECT_EQ(tp->parent, span);
    EXPECT_EQ(tp->flags, flags);
  }
  const auto spec = parse_traceparent(kValid);
  ASSERT_TRUE(spec);
  const auto text = format_traceparent(spec->trace, spec->parent, spec->flags);
  EXPECT_EQ(std::string_view(text.data(), text.size()), kValid);
}

TEST(TraceState, AcceptsWellFormedLists) {
  const std::vector<std::string> valid = {
      "",
      "congo=t61rcWkgMzE",
      "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE",
      "rojo=00f067aa0ba902b7 , \tcongo=t61rcWkgMzE ",
      "a=1,,b=2, ,c=3",  // empty and whitespace-only members are allowed
      " ",
      "fw529a3039@dt=ZmFjZWJvb2s,1a-2f@ada=abc",  // multi-tenant keys; tenant may start with a
                                                  // digit
      "k_-*/9=v",
      "key=value with inner spaces",
      "key= leading space",
      "key=!\"#$%&'()*+-./09:;<>?@AZ[\\]^_`az{|}~",         // every printable but ',' and '='
      std::string(256, 'k') + "=" + std::string(248, 'v'),  // longest simple key, 505 chars
      std::string(241, 't') + "@" + std::string(14, 's') + "=v",
  };
  for (const auto& value : valid) EXPECT_TRUE(valid_tracestate(value)) << "'" << value << "'";
}

TEST(TraceState, AcceptsThirtyTwoMembersButNotThirtyThree) {
  std::string list;
  for (int i = 0; i < 32; ++i) list += (i ? ",k" : "k") + std::to_string(i) + "=v";
  EXPECT_TRUE(valid_tracestate(list));
  EXPECT_TRUE(valid_tracestate(list + ",,"));  // empty members do not count
  EXPECT_FALSE(valid_tracestate(list + ",k32=v"));
}

TEST(TraceState, RefusesMalformedLists) {
  const std::vector<std::string> invalid = {
      "novalue",
      "=value",
      "key=",
      "Key=value",        // uppercase key
      "1key=value",       // a simple key starts with a letter
      "ke y=value",       // space inside the key
      "key =value",       // ... or before '='
      "key=va,lue=x=y",   // '=' in a value
      "key=val\tue",      // tab in a value
      "key=caf\xc3\xa9",  // non-ASCII
      "key=a\x7f",
      "a@=v",                              // empty system id
      "@b=v",                              // empty tenant id
      "a@1b=v",                            // a system id starts with a letter
      "a@b@c=v",                           // one '@' at most
      "a@" + std::string(15, 's') + "=v",  // system id over 14
      std::string(242, 't') + "@s=v",      // tenant id over 241
      std::string(257, 'k') + "=v",        // simple key over 256
      "k=" + std::string(257, 'v'),        // value over 256
      "a=1,a=2",                           // a key twice
      std::string(254, 'a') + "=1," + std::string(254, 'b') + "=2",  // over 512 characters
  };
  for (const auto& value : invalid) EXPECT_FALSE(valid_tracestate(value)) << "'" << value << "'";
}

TEST(TraceIds, AreNeverZeroAndDoNotRepeat) {
  std::set<std::string> traces, spans;
  for (int i = 0; i < 10000; ++i) {
    const TraceId t = new_trace_id();
    const SpanId s = new_span_id();
    ASSERT_FALSE(t.is_zero());
    ASSERT_FALSE(s.is_zero());
    traces.insert(t.hex());
    spans.insert(s.hex());
  }
  EXPECT_EQ(traces.size(), 10000u);
  EXPECT_EQ(spans.size(), 10000u);
}

TEST(TraceIds, DifferBetweenThreads) {
  // Each thread seeds its own generator: two threads must not produce the same sequence.
  std::vector<std::string> first(4);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < first.size(); ++i)
    threads.emplace_back([&first, i] { first[i] = new_trace_id().hex() + new_span_id().hex(); });
  for (auto& t : threads) t.join();
  EXPECT_EQ(std::set<std::string>(first.begin(), first.end()).size(), first.size());
}

TEST(TraceIds, PrintAsLowercaseHex) {
  TraceId t;
  SpanId s;
  EXPECT_TRUE(t.is_zero());
  EXPECT_TRUE(s.is_zero());
  for (std::size_t i = 0; i < t.bytes.size(); ++i) t.bytes[i] = static_cast<std::uint8_t>(i * 17);
  for (std::size_t i = 0; i < s.bytes.size(); ++i) s.bytes[i] = static_cast<std::uint8_t>(0xf0 + i);
  EXPECT_EQ(t.hex(), "00112233445566778899aabbccddeeff");
  EXPECT_EQ(s.hex(), "f0f1f2f3f4f5f6f7");
  EXPECT_FALSE(t.is_zero());
}

}  // namespace
}  // namespace switchyard::telemetry
