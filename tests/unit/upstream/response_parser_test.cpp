#include "switchyard/upstream/response_parser.hpp"

#include <gtest/gtest.h>

#include <boost/beast/http/error.hpp>
#include <string>
#include <vector>

namespace switchyard::upstream {
namespace {

namespace http = boost::beast::http;

struct Read {
  std::string body;
  boost::system::error_code error;  // the first error that is not need_more / need_buffer
};

// Reads `wire` as the exchange does: bytes arrive `step` at a time into a buffer, the parser is
// offered what it has not taken, and the body goes through `room` bytes of space at a time.
// `eof` closes the connection after the last byte.
Read read(ResponseParser& parser, std::string_view wire, std::size_t step, std::size_t room,
          bool eof = false) {
  Read r;
  std::string pending;
  std::vector<char> space(room);
  std::size_t arrived = 0;
  while (!parser.is_done()) {
    if (pending.empty() || r.error == http::error::need_more) {
      if (arrived == wire.size()) {
        if (eof) parser.put_eof(r.error);
        break;
      }
      const std::size_t n = std::min(step, wire.size() - arrived);
      pending.append(wire.substr(arrived, n));
      arrived += n;
    }
    parser.body_into(space);
    boost::system::error_code ec;
    const std::size_t used = parser.put(pending, ec);
    pending.erase(0, used);
    r.body.append(space.data(), room - parser.room());
    r.error = ec;
    if (ec && ec != http::error::need_more && ec != http::error::need_buffer) return r;
  }
  if (r.error == http::error::need_more || r.error == http::error::need_buffer) r.error = {};
  return r;
}

// The same response read in every way: all at once, a byte at a time, and split at every byte
// with the body going through a small room.
void expect_body(std::string_view wire, std::string_view body, bool eof = false) {
  for (std::size_t step : {wire.size(), std::size_t{1}, std::size_t{2}, std::size_t{7}}) {
    for (std::size_t room : {std::size_t{1}, std::size_t{3}, std::size_t{64}}) {
      std::string fields;
      ResponseParser parser(fields);
      const Read r = read(parser, wire, step, room, eof);
      EXPECT_FALSE(r.error) << r.error.message() << " step " << step << " room " << room;
      EXPECT_TRUE(parser.is_done()) << "step " << step << " room " << room;
      EXPECT_EQ(r.body, body) << "step " << step << " room " << room;
    }
  }
}

boost::system::error_code error_of(std::string_view wire, bool eof = false) {
  std::string fields;
  ResponseParser parser(fields);
  return read(parser, wire, wire.size(), 64, eof).error;
}

TEST(ResponseParser, ReadsTheStatusAndFindsHeadersInAnyCase) {
  std::string fields;
  ResponseParser parser(fields);
  const std::string wire =
      "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\n"
      "Retry-After:  7 \r\nX-Custom: a\r\nx-custom: b\r\nContent-Length: 2\r\n\r\n{}";
  EXPECT_EQ(read(parser, wire, wire.size(), 64).body, "{}");
  EXPECT_TRUE(parser.is_done());
  EXPECT_EQ(parser.status(), 429);
  EXPECT_EQ(parser.header("retry-after"), "7");
  EXPECT_EQ(parser.header("CONTENT-TYPE"), "application/json");
  EXPECT_EQ(parser.header("x-custom"), "a");  // the first of repeated fields
  EXPECT_EQ(parser.header("x-absent"), "");
  EXPECT_EQ(parser.header("x-custo"), "");
  EXPECT_TRUE(parser.keep_alive());
}

TEST(ResponseParser, TakesTheHeadWholeAndAloneAsItArrives) {
  std::string fields;
  ResponseParser parser(fields);
  const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
  boost::system::error_code ec;
  for (std::size_t n = 0; n < head.size(); ++n) {
    EXPECT_EQ(parser.put(std::string_view(head).substr(0, n), ec), 0u) << n;
    EXPECT_EQ(ec, http::error::need_more) << n;
    EXPECT_FALSE(parser.is_header_done());
    EXPECT_EQ(parser.got_some(), n > 0);
  }
  EXPECT_EQ(parser.put(head + "hello", ec), head.size());
  EXPECT_FALSE(ec);
  EXPECT_TRUE(parser.is_header_done());
  EXPECT_EQ(parser.content_length_remaining(), 5u);
  char body[8];
  parser.body_into(body);
  EXPECT_EQ(parser.put("hello", ec), 5u);
  EXPECT_TRUE(parser.is_done());
  EXPECT_EQ(std::string_view(body, 5), "hello");
}

TEST(ResponseParser, DecodesChunksSplitAnywhere) {
  expect_body(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n7;name=\"v\"\r\n, world\r\nA \r\n0123456789\r\n0\r\n\r\n",
      "hello, world0123456789");
  // Trailer fields after the last chunk are read past and not kept.
  expect_body(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
      "3\r\nabc\r\n0\r\nX-Checksum: 1\r\nX-Other: 2\r\n\r\n",
      "abc");
}

TEST(ResponseParser, SaysWhetherTheConnectionMayBeReused) {
  const auto keep_alive = [](std::string_view wire, bool eof = false) {
    std::string fields;
    ResponseParser parser(fields);
    const Read r = read(parser, wire, wire.size(), 64, eof);
    EXPECT_FALSE(r.error) << wire;
    EXPECT_TRUE(parser.is_done()) << wire;
    return parser.keep_alive();
  };
  EXPECT_TRUE(keep_alive("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
  EXPECT_FALSE(
      keep_alive("HTTP/1.1 200 OK\r\nConnection: keep-alive, Close\r\n"
                 "Content-Length: 0\r\n\r\n"));
  EXPECT_FALSE(keep_alive("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"));
  EXPECT_TRUE(keep_alive("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n"));
  // A body that runs until the close, and a length beside a transfer coding (the sign of a
  // smuggling attempt: the coding wins and the connection is not trusted after).
  EXPECT_FALSE(keep_alive("HTTP/1.1 200 OK\r\n\r\nall of it", true));
  EXPECT_FALSE(keep_alive(
      "HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"));
  EXPECT_FALSE(keep_alive("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzz", true));
}

TEST(ResponseParser, ReadsABodyWithoutALengthUntilTheClose) {
  expect_body("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nto the end", "to the end", true);
}

TEST(ResponseParser, KnowsResponsesThatHaveNoBody) {
  for (const char* wire : {"HTTP/1.1 204 No Content\r\nContent-Length: 3\r\n\r\n",
                           "HTTP/1.1 304 Not Modified\r\nContent-Length: 3\r\n\r\n",
                           "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"}) {
    std::string fields;
    ResponseParser parser(fields);
    boost::system::error_code ec;
    EXPECT_EQ(parser.put(wire, ec), std::string_view(wire).size()) << wire;
    EXPECT_FALSE(ec) << wire;
    EXPECT_TRUE(parser.is_done()) << wire;
    EXPECT_TRUE(parser.keep_alive()) << wire;
  }
}

TEST(ResponseParser, PassesOverInterimResponses) {
  std::string fields;
  const std::string wire =
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  for (std::size_t step : {wire.size(), std::size_t{1}}) {
    ResponseParser p(fields);
    const Read r = read(p, wire, step, 64);
    EXPECT_FALSE(r.error) << step;
    EXPECT_EQ(p.status(), 200) << step;
    EXPECT_EQ(p.header("link"), "") << step;
    EXPECT_EQ(r.body, "ok") << step;
  }
}

TEST(ResponseParser, AcceptsRepeatedLengthsThatAgree) {
  expect_body("HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\nContent-Length: 3\r\n\r\nabc", "abc");
  expect_body("HTTP/1.1 200\r\nContent-Length: 3\r\n\r\nabc", "abc");  // no reason, no SP
}

TEST(ResponseParser, RejectsWhatIsNotAnHttp11Response) {
  using E = http::error;
  const std::pair<std::string, E> cases[] = {
      {"HTTP/2 200 OK\r\n\r\n", E::bad_version},
      {"HTTP/1.2 200 OK\r\n\r\n", E::bad_version},
      {"ICY 200 OK\r\n\r\n", E::bad_version},
      {"HTTP/1.1 20 OK\r\n\r\n", E::bad_status},
      {"HTTP/1.1 2000 OK\r\n\r\n", E::bad_status},
      {"HTTP/1.1 099 Low\r\n\r\n", E::bad_status},
      {"HTTP/1.1 200 O\x01K\r\n\r\n", E::bad_value},
      {"HTTP/1.1 200 OK\r\nNo-Colon\r\n\r\n", E::bad_field},
      {"HTTP/1.1 200 OK\r\nName : v\r\n\r\n", E::bad_field},
      {"HTTP/1.1 200 OK\r\n: v\r\n\r\n", E::bad_field},
      {"HTTP/1.1 200 OK\r\nA: 1\r\n folded\r\n\r\n", E::bad_field},
      {"HTTP/1.1 200 OK\r\nA: 1\nB: 2\r\n\r\n", E::bad_line_ending},
      {"HTTP/1.1 200 OK\r\nA: 1\rB: 2\r\n\r\n", E::bad_line_ending},
      {"HTTP/1.1 200 OK\r\nA: x\x7fy\r\n\r\n", E::bad_value},
      {"HTTP/1.1 200 OK\r\nA: \x1b[31m\r\n\r\n", E::bad_value},
      {"HTTP/1.1 200 OK\nContent-Length: 0\n\n", E::bad_line_ending},
      {"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
       E::bad_content_length},
      {"HTTP/1.1 200 OK\r\nContent-Length: 3, 4\r\n\r\nabcd", E::bad_content_length},
      {"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", E::bad_content_length},
      {"HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n", E::bad_content_length},
      {"HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n", E::bad_content_length},
      {"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", E::bad_content_length},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", E::bad_chunk},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5x\r\nhello\r\n", E::bad_chunk},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n", E::bad_chunk},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n", E::bad_chunk},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + std::string(5000, '1'),
       E::bad_chunk},
      {"HTTP/1.1 200 OK\r\nX: " + std::string(ResponseParser::kMaxHead, 'a'), E::header_limit},
      {"HTTP/1.1 200 OK\r\nX: " + std::string(ResponseParser::kMaxHead, 'a') + "\r\n\r\n",
       E::header_limit},
  };
  for (const auto& [wire, expected] : cases)
    EXPECT_EQ(error_of(wire), expected) << wire.substr(0, 80);
}

TEST(ResponseParser, SaysABodyCutShortByTheCloseIsIncomplete) {
  EXPECT_EQ(error_of("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", true),
            http::error::partial_message);
  EXPECT_EQ(error_of("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", true),
            http::error::partial_message);
  EXPECT_EQ(error_of("HTTP/1.1 200 OK\r\nContent-", true), http::error::partial_message);
}

TEST(ResponseParser, ForgetsTheFieldsOfTheResponseBefore) {
  std::string fields;
  {
    ResponseParser first(fields);
    read(first, "HTTP/1.1 200 OK\r\nMcp-Session-Id: s1\r\nContent-Length: 0\r\n\r\n", 64, 8);
    EXPECT_EQ(first.header("mcp-session-id"), "s1");
  }
  ResponseParser second(fields);
  read(second, "HTTP/1.1 204 No Content\r\n\r\n", 64, 8);
  EXPECT_EQ(second.status(), 204);
  EXPECT_EQ(second.header("mcp-session-id"), "");
}

}  // namespace
}  // namespace switchyard::upstream
