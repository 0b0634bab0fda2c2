#include "switchyard/http1/parser.hpp"

#include <gtest/gtest.h>

#include <boost/beast/http/error.hpp>
#include <string>
#include <vector>

namespace switchyard::http1 {
namespace {

namespace http = boost::beast::http;

struct Read {
  std::string body;
  boost::system::error_code error;  // the first error that is not need_more / need_buffer
};

// Reads `wire` as the exchange does: bytes arrive `step` at a time into a buffer, the parser is
// offered what it has not taken, and the body goes through `room` bytes of space at a time.
// `eof` closes the connection after the last byte.
Read read(Parser& parser, std::string_view wire, std::size_t step, std::size_t room,
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
void expect_body(std::string_view wire, std::string_view body, bool eof = false,
                 Kind kind = Kind::response) {
  for (std::size_t step : {wire.size(), std::size_t{1}, std::size_t{2}, std::size_t{7}}) {
    for (std::size_t room : {std::size_t{1}, std::size_t{3}, std::size_t{64}}) {
      Head head;
      Parser parser(kind, head);
      const Read r = read(parser, wire, step, room, eof);
      EXPECT_FALSE(r.error) << r.error.message() << " step " << step << " room " << room;
      EXPECT_TRUE(parser.is_done()) << "step " << step << " room " << room;
      EXPECT_EQ(r.body, body) << "step " << step << " room " << room;
    }
  }
}

boost::system::error_code error_of(std::string_view wire, bool eof = false,
                                   Kind kind = Kind::response) {
  Head head;
  Parser parser(kind, head);
  return read(parser, wire, wire.size(), 64, eof).error;
}

TEST(ResponseParser, ReadsTheStatusAndFindsHeadersInAnyCase) {
  Head head;
  Parser parser(Kind::response, head);
  const std::string wire =
      "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\n"
      "Retry-After:  7 \r\nX-Custom: a\r\nx-custom: b\r\nContent-Length: 2\r\n\r\n{}";
  EXPECT_EQ(read(parser, wire, wire.size(), 64).body, "{}");
  EXPECT_TRUE(parser.is_done());
  EXPECT_EQ(parser.head().status(), 429);
  EXPECT_EQ(parser.head().header("retry-after"), "7");
  EXPECT_EQ(parser.head().header("CONTENT-TYPE"), "application/json");
  EXPECT_EQ(parser.head().header("x-custom"), "a");  // the first of repeated fields
  EXPECT_EQ(parser.head().header("x-absent"), "");
  EXPECT_EQ(parser.head().header("x-custo"), "");
  EXPECT_TRUE(parser.keep_alive());
}

TEST(ResponseParser, TakesTheHeadWholeAndAloneAsItArrives) {
  Head head;
  Parser parser(Kind::response, head);
  const std::string wire = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
  boost::system::error_code ec;
  for (std::size_t n = 0; n < wire.size(); ++n) {
    EXPECT_EQ(parser.put(std::string_view(wire).substr(0, n), ec), 0u) << n;
    EXPECT_EQ(ec, http::error::need_more) << n;
    EXPECT_FALSE(parser.is_header_done());
    EXPECT_EQ(parser.got_some(), n > 0);
  }
  EXPECT_EQ(parser.put(wire + "hello", ec), wire.size());
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
    Head head;
    Parser parser(Kind::response, head);
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
    Head head;
    Parser parser(Kind::response, head);
    boost::system::error_code ec;
    EXPECT_EQ(parser.put(wire, ec), std::string_view(wire).size()) << wire;
    EXPECT_FALSE(ec) << wire;
    EXPECT_TRUE(parser.is_done()) << wire;
    EXPECT_TRUE(parser.keep_alive()) << wire;
  }
}

TEST(ResponseParser, PassesOverInterimResponses) {
  Head head;
  const std::string wire =
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  for (std::size_t step : {wire.size(), std::size_t{1}}) {
    Parser p(Kind::response, head);
    const Read r = read(p, wire, step, 64);
    EXPECT_FALSE(r.error) << step;
    EXPECT_EQ(p.head().status(), 200) << step;
    EXPECT_EQ(p.head().header("link"), "") << step;
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
      {"HTTP/1.1 200 OK\r\nX: " + std::string(Parser::kMaxHead, 'a'), E::header_limit},
      {"HTTP/1.1 200 OK\r\nX: " + std::string(Parser::kMaxHead, 'a') + "\r\n\r\n", E::header_limit},
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
  Head head;
  {
    Parser first(Kind::response, head);
    read(first, "HTTP/1.1 200 OK\r\nMcp-Session-Id: s1\r\nContent-Length: 0\r\n\r\n", 64, 8);
    EXPECT_EQ(first.head().header("mcp-session-id"), "s1");
  }
  Parser second(Kind::response, head);
  read(second, "HTTP/1.1 204 No Content\r\n\r\n", 64, 8);
  EXPECT_EQ(second.head().status(), 204);
  EXPECT_EQ(second.head().header("mcp-session-id"), "");
}

TEST(RequestParser, ReadsTheRequestLineAndFindsFieldsInAnyCase) {
  Head head;
  Parser parser(Kind::request, head);
  const std::string wire =
      "POST /v1/chat/completions?trace=1 HTTP/1.1\r\nHost: gw\r\nAuthorization:  Bearer k \r\n"
      "X-Stainless-Lang: js\r\nX-a^b: caret\r\nContent-Length: 2\r\n\r\n{}";
  EXPECT_EQ(read(parser, wire, wire.size(), 64).body, "{}");
  EXPECT_TRUE(parser.is_done());
  EXPECT_EQ(head.method(), boost::beast::http::verb::post);
  EXPECT_EQ(head.method_string(), "POST");
  EXPECT_EQ(head.target(), "/v1/chat/completions?trace=1");
  EXPECT_EQ(head.version(), 11u);
  EXPECT_EQ(head.header("authorization"), "Bearer k");
  EXPECT_EQ(head.find("x-absent"), std::nullopt);
  EXPECT_EQ(head.header("X-A^B"), "caret");
  EXPECT_EQ(head.find("x-a~b"), std::nullopt);  // '~' is '^' with bit 0x20 set, not its case
  std::string fields;
  head.for_each_field([&](std::string_view name, std::string_view value) {
    fields.append(name).append("=").append(value).append(";");
  });
  EXPECT_EQ(fields,
            "Host=gw;Authorization=Bearer k;X-Stainless-Lang=js;X-a^b=caret;Content-Length=2;");
  EXPECT_TRUE(parser.keep_alive());
}

TEST(RequestParser, KnowsMethodsItDoesNotServeAndRequestsWithoutABody) {
  Head head;
  Parser parser(Kind::request, head);
  boost::system::error_code ec;
  const std::string wire = "BREW /pot HTTP/1.0\r\n\r\nGET";
  EXPECT_EQ(parser.put(wire, ec), wire.size() - 3);
  EXPECT_FALSE(ec);
  EXPECT_TRUE(parser.is_done());
  EXPECT_EQ(head.method(), boost::beast::http::verb::unknown);
  EXPECT_EQ(head.method_string(), "BREW");
  EXPECT_EQ(head.version(), 10u);
  EXPECT_FALSE(parser.keep_alive());
}

TEST(RequestParser, DecodesAChunkedBodySplitAnywhere) {
  expect_body(
      "POST /v1/embeddings HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
      "2\r\n{\"\r\n9;ext=1\r\ninput\":1}\r\n0\r\nX-Trailer: t\r\n\r\n",
      "{\"input\":1}", false, Kind::request);
}

TEST(RequestParser, PassesOverEmptyLinesBeforeTheRequest) {
  expect_body("\r\n\r\nPOST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", "abc", false,
              Kind::request);
}

TEST(RequestParser, SaysWhetherTheConnectionStaysOpen) {
  const auto keep_alive = [](std::string_view wire) {
    Head head;
    Parser parser(Kind::request, head);
    EXPECT_FALSE(read(parser, wire, wire.size(), 64).error) << wire;
    return parser.keep_alive();
  };
  EXPECT_TRUE(keep_alive("GET / HTTP/1.1\r\n\r\n"));
  EXPECT_FALSE(keep_alive("GET / HTTP/1.1\r\nConnection: close\r\n\r\n"));
  EXPECT_FALSE(keep_alive("GET / HTTP/1.0\r\n\r\n"));
  EXPECT_TRUE(keep_alive("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
}

// What could be read two ways by two servers (request smuggling) is refused, as is what is not a
// request at all.
TEST(RequestParser, RefusesRequestsWhoseFramingIsInDoubt) {
  using E = http::error;
  const std::pair<std::string, E> cases[] = {
      {"POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
       E::bad_transfer_encoding},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
       E::bad_transfer_encoding},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", E::bad_transfer_encoding},
      {"POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
       E::bad_content_length},
      {"POST / HTTP/1.1\r\nContent-Length: 3, 3\r\n\r\nabc", E::bad_content_length},
      {"POST / HTTP/1.1\r\nContent-Length: +3\r\n\r\nabc", E::bad_content_length},
      {"POST / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", E::bad_field},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3x\r\nabc\r\n0\r\n\r\n", E::bad_chunk},
      {"POST / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n", E::bad_line_ending},
      {"HELLO THERE\r\n\r\n", E::bad_target},
      {"GET / HTTP/2.0\r\n\r\n", E::bad_version},
      {"GET /  HTTP/1.1\r\n\r\n", E::bad_version},
      {"GET  / HTTP/1.1\r\n\r\n", E::bad_target},
      {"GET /a\tb HTTP/1.1\r\n\r\n", E::bad_target},
      {"G(T / HTTP/1.1\r\n\r\n", E::bad_method},
      {" GET / HTTP/1.1\r\n\r\n", E::bad_method},
  };
  for (const auto& [wire, expected] : cases)
    EXPECT_EQ(error_of(wire, false, Kind::request), expected) << wire;
}

TEST(RequestParser, KeepsToItsLimits) {
  const auto error = [](std::string_view wire) {
    Head head;
    Parser parser(Kind::request, head, 64, 10);
    return read(parser, wire, wire.size(), 64).error;
  };
  EXPECT_FALSE(error("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789"));
  EXPECT_EQ(error("POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n"), http::error::body_limit);
  EXPECT_FALSE(
      error("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
            "5\r\n01234\r\n5\r\n56789\r\n0\r\n\r\n"));
  EXPECT_EQ(error("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "5\r\n01234\r\n6\r\n56789a\r\n0\r\n\r\n"),
            http::error::body_limit);
  EXPECT_EQ(error("GET / HTTP/1.1\r\nX: " + std::string(60, 'a') + "\r\n\r\n"),
            http::error::header_limit);
}

}  // namespace
}  // namespace switchyard::http1
