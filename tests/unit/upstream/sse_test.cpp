// Server-sent-events framing as the stream relay sees it: the same events whatever the line
// endings and however the bytes are split across reads, exact raw spans to forward, and the
// final event of a server that closes without its blank line.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "switchyard/upstream/sse.hpp"

namespace switchyard::upstream {
namespace {

// An event copied out of the parser, whose views do not outlive the next feed.
struct Event {
  std::string raw;
  std::string data;
  std::string name;
  bool has_data = false;

  bool operator==(const Event&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Event& e) {
  return os << "{raw=" << testing::PrintToString(e.raw)
            << " data=" << testing::PrintToString(e.data)
            << " name=" << testing::PrintToString(e.name) << " has_data=" << e.has_data << "}";
}

Event copy(const SseEvent& e) {
  return {std::string(e.raw), std::string(e.data), std::string(e.name), e.has_data};
}

Event data_event(std::string raw, std::string data, std::string name = {}) {
  return {std::move(raw), std::move(data), std::move(name), true};
}

// Drains every complete event, as the relay does after each read.
void drain(SseParser& p, std::vector<Event>& out) {
  while (auto ev = p.next()) out.push_back(copy(*ev));
  p.discard_consumed();
}

// Feeds `stream` in the given pieces, then ends it.
std::vector<Event> parse_in_pieces(const std::vector<std::string_view>& pieces) {
  SseParser p;
  std::vector<Event> out;
  for (const auto piece : pieces) {
    p.feed(piece);
    drain(p, out);
  }
  if (auto ev = p.finish()) out.push_back(copy(*ev));
  return out;
}

std::vector<Event> parse_whole(std::string_view stream) {
  return parse_in_pieces({stream});
}

std::vector<Event> parse_byte_by_byte(std::string_view stream) {
  std::vector<std::string_view> pieces;
  for (std::size_t i = 0; i < stream.size(); ++i) pieces.push_back(stream.substr(i, 1));
  return parse_in_pieces(pieces);
}

TEST(SseParser, SplitsEventsAtBlankLines) {
  const auto events = parse_whole("data: {\"a\":1}\n\ndata: [DONE]\n\n");
  EXPECT_EQ(events, (std::vector<Event>{data_event("data: {\"a\":1}\n\n", "{\"a\":1}"),
                                        data_event("data: [DONE]\n\n", "[DONE]")}));
}

TEST(SseParser, AcceptsCrlfAndBareCrLineEndings) {
  EXPECT_EQ(
      parse_whole("data: a\r\n\r\ndata: b\r\n\r\n"),
      (std::vector<Event>{data_event("data: a\r\n\r\n", "a"), data_event("data: b\r\n\r\n", "b")}));
  EXPECT_EQ(parse_whole("data: a\r\rdata: b\r\r"),
            (std::vector<Event>{data_event("data: a\r\r", "a"), data_event("data: b\r\r", "b")}));
  EXPECT_EQ(parse_whole("event: x\rdata: a\r\ndata: b\n\r\n"),
            (std::vector<Event>{data_event("event: x\rdata: a\r\ndata: b\n\r\n", "a\nb", "x")}));
}

TEST(SseParser, YieldsTheSameEventsWhereverTheStreamIsSplit) {
  const std::string_view stream =
      ": OPENROUTER PROCESSING\n\n"
      "event: message_start\r\ndata: {\"type\":\"message_start\"}\r\n\r\n"
      "data: line one\rdata:line two\r\r"
      "id: 7\nretry: 100\ndata:  two spaces\n\n"
      "\n"
      "data: {\"choices\":[{\"delta\":{\"content\":\"caf\xC3\xA9\"}}]}\n\n"
      "data: [DONE]";
  const std::vector<Event> whole = parse_whole(stream);
  ASSERT_EQ(whole.size(), 7u);
  EXPECT_EQ(parse_byte_by_byte(stream), whole);
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    EXPECT_EQ(parse_in_pieces({stream.substr(0, cut), stream.substr(cut)}), whole) << cut;
  }
  for (std::size_t a = 0; a <= stream.size(); a += 3) {
    for (std::size_t b = a; b <= stream.size(); b += 5) {
      EXPECT_EQ(parse_in_pieces({stream.substr(0, a), stream.substr(a, b - a), stream.substr(b)}),
                whole)
          << a << ", " << b;
    }
  }
}

TEST(SseParser, WaitsForTheByteAfterACrAtTheEndOfARead) {
  // "\r" then "\n" in the next read is one CRLF, not a line end followed by a blank line.
  SseParser p;
  p.feed("data: a\r");
  EXPECT_FALSE(p.next());
  p.feed("\n\r");
  EXPECT_FALSE(p.next());
  p.feed("\ndata: b\r\n\r\n");
  auto first = p.next();
  ASSERT_TRUE(first);
  EXPECT_EQ(copy(*first), data_event("data: a\r\n\r\n", "a"));
  auto second = p.next();
  ASSERT_TRUE(second);
  EXPECT_EQ(copy(*second), data_event("data: b\r\n\r\n", "b"));
  EXPECT_FALSE(p.next());
  p.discard_consumed();
  EXPECT_EQ(p.pending_bytes(), 0u);
}

TEST(SseParser, EndsAnEventAtACrFollowedByAnotherLine) {
  SseParser p;
  p.feed("data: a\r\r");
  EXPECT_FALSE(p.next());  // the second CR might still be half of a CRLF
  p.feed("data: b\r\r\n");
  auto first = p.next();
  ASSERT_TRUE(first);
  EXPECT_EQ(copy(*first), data_event("data: a\r\r", "a"));
  auto second = p.next();
  ASSERT_TRUE(second);
  EXPECT_EQ(copy(*second), data_event("data: b\r\r\n", "b"));
}

TEST(SseParser, ReportsCommentOnlyEventsAsHavingNoData) {
  const auto events = parse_whole(": keep-alive\n\n:\n\n");
  EXPECT_EQ(events,
            (std::vector<Event>{{": keep-alive\n\n", "", "", false}, {":\n\n", "", "", false}}));
}

TEST(SseParser, ReportsABlankLineOnItsOwnAsAnEventWithoutData) {
  // DeepSeek sends bare blank lines while a request is queued.
  const auto events = parse_whole("\n\r\n\rdata: x\n\n");
  EXPECT_EQ(events, (std::vector<Event>{{"\n", "", "", false},
                                        {"\r\n", "", "", false},
                                        {"\r", "", "", false},
                                        data_event("data: x\n\n", "x")}));
}

TEST(SseParser, IgnoresCommentLinesInsideAnEvent) {
  EXPECT_EQ(parse_whole(": ping\ndata: x\n: more\n\n"),
            (std::vector<Event>{data_event(": ping\ndata: x\n: more\n\n", "x")}));
}

TEST(SseParser, JoinsMultiLineDataWithNewlines) {
  EXPECT_EQ(parse_whole("data: {\ndata:  \"a\": 1\ndata\ndata: }\n\n"),
            (std::vector<Event>{
                data_event("data: {\ndata:  \"a\": 1\ndata\ndata: }\n\n", "{\n \"a\": 1\n\n}")}));
}

TEST(SseParser, RemovesExactlyOneSpaceAfterTheColon) {
  EXPECT_EQ(parse_whole("data:x\n\n")[0].data, "x");
  EXPECT_EQ(parse_whole("data: x\n\n")[0].data, "x");
  EXPECT_EQ(parse_whole("data:  x\n\n")[0].data, " x");
  EXPECT_EQ(parse_whole("data:\tx\n\n")[0].data, "\tx");
  EXPECT_EQ(parse_whole("data: x \n\n")[0].data, "x ");
  EXPECT_EQ(parse_whole("data: a: b\n\n")[0].data, "a: b");
}

TEST(SseParser, CountsADataFieldWithoutValueAsData) {
  for (const char* stream : {"data\n\n", "data:\n\n", "data: \n\n"}) {
    const auto events = parse_whole(stream);
    ASSERT_EQ(events.size(), 1u) << stream;
    EXPECT_TRUE(events[0].has_data) << stream;
    EXPECT_EQ(events[0].data, "") << stream;
  }
}

TEST(SseParser, ReadsTheEventName) {
  const auto events = parse_whole(
      "event: content_block_delta\ndata: {}\n\nevent:ping\n\nevent: error\r\ndata: "
      "{\"x\":1}\r\n\r\n");
  EXPECT_EQ(events,
            (std::vector<Event>{
                data_event("event: content_block_delta\ndata: {}\n\n", "{}", "content_block_delta"),
                {"event:ping\n\n", "", "ping", false},
                data_event("event: error\r\ndata: {\"x\":1}\r\n\r\n", "{\"x\":1}", "error")}));
}

TEST(SseParser, IgnoresUnknownFieldsAndFieldsThatOnlyStartLikeData) {
  const auto events = parse_whole("id: 1\nretry: 5\ndatum: no\nDATA: no\ndata : no\n\n");
  EXPECT_EQ(
      events,
      (std::vector<Event>{{"id: 1\nretry: 5\ndatum: no\nDATA: no\ndata : no\n\n", "", "", false}}));
}

TEST(SseParser, RawSpansCoverTheStreamExactly) {
  const std::string stream =
      ": hi\r\n\r\nevent: a\ndata: 1\n\n\n\ndata: 2\rdata: 3\r\r: bye\n\ndata: [DONE]\n\n";
  std::string joined;
  for (const auto& e : parse_byte_by_byte(stream)) joined += e.raw;
  EXPECT_EQ(joined, stream);
}

TEST(SseParser, FinishReturnsAFinalEventThatLacksItsBlankLine) {
  EXPECT_EQ(
      parse_whole("data: {}\n\ndata: [DONE]"),
      (std::vector<Event>{data_event("data: {}\n\n", "{}"), data_event("data: [DONE]", "[DONE]")}));
  EXPECT_EQ(parse_whole("data: [DONE]\n"),
            (std::vector<Event>{data_event("data: [DONE]\n", "[DONE]")}));
  EXPECT_EQ(parse_whole("data: [DONE]\r"),
            (std::vector<Event>{data_event("data: [DONE]\r", "[DONE]")}));
  EXPECT_EQ(parse_whole("data: a\ndata: b"),
            (std::vector<Event>{data_event("data: a\ndata: b", "a\nb")}));
}

TEST(SseParser, FinishReturnsNothingWhenNoEventIsLeft) {
  for (const char* stream : {"", "data: x\n\n", "data: x\n\n\r\n", "\n"}) {
    SseParser p;
    p.feed(stream);
    while (p.next()) {
    }
    EXPECT_FALSE(p.finish()) << testing::PrintToString(stream);
  }
}

TEST(SseParser, FinishHandsOverUnterminatedTextWithoutData) {
  // Gemini ends a failed stream with raw JSON lines: not SSE, but the decoder must see them.
  for (const char* stream : {": keep-alive", "id: 3\n", "{\n  \"error\": {}\n}\n"}) {
    SseParser p;
    p.feed(stream);
    EXPECT_FALSE(p.next());
    const auto ev = p.finish();
    ASSERT_TRUE(ev) << testing::PrintToString(stream);
    EXPECT_FALSE(ev->has_data);
    EXPECT_EQ(ev->raw, stream);
  }
}

TEST(SseParser, FinishReturnsTheFinalEventOnlyOnce) {
  SseParser p;
  p.feed("data: [DONE]");
  EXPECT_FALSE(p.next());
  ASSERT_TRUE(p.finish());
  EXPECT_FALSE(p.finish());
  EXPECT_FALSE(p.next());
}

TEST(SseParser, FlagsAPartialEventLargerThanTheLimit) {
  SseParser p(16);
  p.feed("data: 0123456789");  // 16 bytes
  EXPECT_FALSE(p.next());
  EXPECT_FALSE(p.overflowed());
  p.feed("a");
  EXPECT_FALSE(p.next());
  EXPECT_TRUE(p.overflowed());
  EXPECT_EQ(p.pending_bytes(), 17u);
}

TEST(SseParser, DoesNotCountEventsAlreadyReturnedAgainstTheLimit) {
  SseParser p(16);
  std::vector<Event> events;
  for (int i = 0; i < 10; ++i) {
    p.feed("data: 0123456789\n\n");  // 18 bytes each, more than the limit in total and alone
    drain(p, events);
    EXPECT_FALSE(p.overflowed()) << i;
    EXPECT_EQ(p.pending_bytes(), 0u);
  }
  EXPECT_EQ(events.size(), 10u);

  // Returned but not yet discarded: still not part of a partial event.
  p.feed("data: 0123456789\n\ndata: x");
  ASSERT_TRUE(p.next());
  EXPECT_FALSE(p.next());
  EXPECT_FALSE(p.overflowed());
  EXPECT_EQ(p.pending_bytes(), 7u);
}

TEST(SseParser, KeepsAPartialEventAcrossDiscardConsumed) {
  SseParser p;
  p.feed("data: a\n\ndata: b");
  auto first = p.next();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->data, "a");
  EXPECT_FALSE(p.next());
  p.discard_consumed();
  EXPECT_EQ(p.pending_bytes(), 7u);
  p.feed("c\n\n");
  auto second = p.next();
  ASSERT_TRUE(second);
  EXPECT_EQ(copy(*second), data_event("data: bc\n\n", "bc"));
}

TEST(SseParser, SeesOnlyCommittedBytesOfPreparedSpace) {
  SseParser p;
  const std::string_view bytes = "data: a\n\ndata: b\n\n";
  char* space = p.prepare(64);
  std::memcpy(space, bytes.data(), bytes.size());
  p.commit(9);  // the reader only got "data: a\n\n" so far
  auto first = p.next();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->raw, "data: a\n\n");
  EXPECT_FALSE(p.next());
  EXPECT_FALSE(p.finish());

  SseParser q;
  space = q.prepare(64);
  std::memcpy(space, bytes.data(), 12);
  q.commit(12);
  space = q.prepare(64);
  std::memcpy(space, bytes.data() + 12, bytes.size() - 12);
  q.commit(bytes.size() - 12);
  std::vector<Event> events;
  drain(q, events);
  EXPECT_EQ(events,
            (std::vector<Event>{data_event("data: a\n\n", "a"), data_event("data: b\n\n", "b")}));
}

TEST(SseDataEvent, FramesDataAsOneEventTheParserReadsBack) {
  EXPECT_EQ(sse_data_event("[DONE]"), "data: [DONE]\n\n");
  EXPECT_EQ(sse_data_event(""), "data: \n\n");
  const std::string json = R"({"error":{"message":"x","type":"server_error"}})";
  EXPECT_EQ(parse_whole(sse_data_event(json)),
            (std::vector<Event>{data_event("data: " + json + "\n\n", json)}));
}

}  // namespace
}  // namespace switchyard::upstream

namespace switchyard::upstream {
namespace {

TEST(SseParser, DiscardAllDropsCompleteAndPartialEvents) {
  SseParser p;
  p.feed("data: a\n\ndata: part");
  p.discard_all();
  EXPECT_FALSE(p.next());
  EXPECT_FALSE(p.finish());
  EXPECT_EQ(p.pending_bytes(), 0u);
  p.feed("data: b\n\n");
  const auto ev = p.next();
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->data, "b");
}

}  // namespace
}  // namespace switchyard::upstream
