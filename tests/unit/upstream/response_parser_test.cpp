#include "switchyard/upstream/response_parser.hpp"

#include <gtest/gtest.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <string>

namespace switchyard::upstream {
namespace {

namespace http = boost::beast::http;

// Feeds `wire` to the parser as a reader would: the bytes a put() leaves are offered again.
std::string body_of(ResponseParser& parser, std::string_view wire, std::size_t room) {
  std::string body;
  char buf[64];
  while (!wire.empty() && !parser.is_done()) {
    parser.body_into(std::span<char>(buf, std::min(room, sizeof buf)));
    boost::system::error_code ec;
    const std::size_t used = parser.put(boost::asio::buffer(wire.data(), wire.size()), ec);
    wire.remove_prefix(used);
    body.append(buf, std::min(room, sizeof buf) - parser.room());
    if (ec && ec != http::error::need_buffer && ec != http::error::need_more) {
      ADD_FAILURE() << ec.message();
      break;
    }
  }
  return body;
}

TEST(ResponseParser, ReadsTheStatusAndFindsHeadersInAnyCase) {
  std::string fields;
  ResponseParser parser(fields);
  parser.eager(true);
  const std::string wire =
      "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\n"
      "Retry-After: 7\r\nX-Custom: a\r\nx-custom: b\r\nContent-Length: 2\r\n\r\n{}";
  EXPECT_EQ(body_of(parser, wire, 64), "{}");
  EXPECT_TRUE(parser.is_done());
  EXPECT_EQ(parser.status(), 429);
  EXPECT_EQ(parser.header("retry-after"), "7");
  EXPECT_EQ(parser.header("CONTENT-TYPE"), "application/json");
  EXPECT_EQ(parser.header("x-custom"), "a");  // the first of repeated fields
  EXPECT_EQ(parser.header("x-absent"), "");
  EXPECT_TRUE(parser.keep_alive());
}

TEST(ResponseParser, DecodesAChunkedBodyThroughASmallBuffer) {
  std::string fields;
  ResponseParser parser(fields);
  parser.eager(true);
  const std::string wire =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
      "5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n";
  EXPECT_EQ(body_of(parser, wire, 3), "hello, world");
  EXPECT_TRUE(parser.is_done());
  EXPECT_FALSE(parser.keep_alive());
}

TEST(ResponseParser, ForgetsTheFieldsOfTheResponseBefore) {
  std::string fields;
  {
    ResponseParser first(fields);
    body_of(first, "HTTP/1.1 200 OK\r\nMcp-Session-Id: s1\r\nContent-Length: 0\r\n\r\n", 8);
    EXPECT_EQ(first.header("mcp-session-id"), "s1");
  }
  ResponseParser second(fields);
  body_of(second, "HTTP/1.1 204 No Content\r\n\r\n", 8);
  EXPECT_EQ(second.status(), 204);
  EXPECT_EQ(second.header("mcp-session-id"), "");
}

}  // namespace
}  // namespace switchyard::upstream
