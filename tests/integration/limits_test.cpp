// Bad input gets a clear OpenAI-shaped error and a non-2xx status: never a crash, a hang or a
// silent 200.
#include <gtest/gtest.h>

#include <sstream>

#include "harness.hpp"

namespace switchyard::testing {
namespace {

void expect_openai_error(const Response& r, int status, const std::string& code) {
  EXPECT_EQ(r.status, status) << r.body;
  EXPECT_EQ(r.header("content-type"), "application/json");
  const auto body = json::parse(r.body, nullptr, false);
  ASSERT_TRUE(body.is_object()) << r.body;
  const auto& error = body["error"];
  for (const char* key : {"message", "type", "param", "code"})
    EXPECT_TRUE(error.contains(key)) << key << " missing in " << r.body;
  EXPECT_FALSE(error["message"].get<std::string>().empty());
  if (!code.empty()) {
    EXPECT_EQ(error["code"], code) << r.body;
  }
}

class Limits : public ::testing::Test {
 protected:
  TempDir dir_;
  Mock mock_{dir_, "mock"};
  Gateway gateway_{dir_,
                   "server:\n  workers: 1\n  max_body: 4KiB\n  max_header: 2KiB\n"
                   "  read_timeout: 300ms\n  max_connections: 3\n"
                   "providers:\n  local: { type: openai, base_url: \"http://127.0.0.1:" +
                       std::to_string(mock_.port()) +
                       "/v1\" }\n"
                       "models:\n  small: { provider: local }\n"};
};

TEST_F(Limits, RejectsMalformedJson) {
  HttpClient client(gateway_.port());
  expect_openai_error(client.request("POST", "/v1/chat/completions", "{\"model\": \"small\","), 400,
                      "");
  expect_openai_error(client.request("POST", "/v1/chat/completions", "[1,2]"), 400, "");
  expect_openai_error(client.request("POST", "/v1/chat/completions", ""), 400, "");
  EXPECT_EQ(mock_.stats()["requests"].value("POST /v1/chat/completions", 0), 0);
}

TEST_F(Limits, RejectsMissingAndMistypedFieldsNamingTheParameter) {
  HttpClient client(gateway_.port());
  auto no_model = chat_body("small");
  no_model.erase("model");
  auto r = client.post_json("/v1/chat/completions", no_model);
  expect_openai_error(r, 400, "missing_required_parameter");
  EXPECT_EQ(r.json_body()["error"]["param"], "model");

  auto no_messages = chat_body("small");
  no_messages.erase("messages");
  r = client.post_json("/v1/chat/completions", no_messages);
  expect_openai_error(r, 400, "missing_required_parameter");
  EXPECT_EQ(r.json_body()["error"]["param"], "messages");

  auto bad_stream = chat_body("small");
  bad_stream["stream"] = "yes";
  r = client.post_json("/v1/chat/completions", bad_stream);
  expect_openai_error(r, 400, "invalid_type");
  EXPECT_EQ(r.json_body()["error"]["param"], "stream");

  auto bad_model = chat_body("small");
  bad_model["model"] = 42;
  expect_openai_error(client.post_json("/v1/chat/completions", bad_model), 400, "invalid_type");

  auto empty_messages = chat_body("small");
  empty_messages["messages"] = json::array();
  expect_openai_error(client.post_json("/v1/chat/completions", empty_messages), 400, "empty_array");
}

TEST_F(Limits, AnswersUnknownModelsWith404ModelNotFound) {
  HttpClient client(gateway_.port());
  const auto r = client.post_json("/v1/chat/completions", chat_body("gpt-9-ultra"));
  expect_openai_error(r, 404, "model_not_found");
  EXPECT_EQ(r.header("x-switchyard-attempts"), "0");
  EXPECT_NE(r.json_body()["error"]["message"].get<std::string>().find("gpt-9-ultra"),
            std::string::npos);
}

TEST_F(Limits, AnswersUnknownPathsWith404AndWrongMethodsWith405) {
  HttpClient client(gateway_.port());
  expect_openai_error(client.get("/v1/embeddingz"), 404, "unknown_url");
  expect_openai_error(client.get("/v1/chat/completions"), 405, "method_not_allowed");
  expect_openai_error(client.request("POST", "/v1/models", "{}"), 405, "method_not_allowed");
}

TEST_F(Limits, RejectsABodyOverTheLimitWith413) {
  HttpClient client(gateway_.port());
  auto big = chat_body("small");
  big["messages"][1]["content"] = std::string(5000, 'x');
  expect_openai_error(client.post_json("/v1/chat/completions", big), 413, "request_too_large");
}

TEST_F(Limits, RejectsOversizedHeadersWith431) {
  RawConnection raw(gateway_.port());
  raw.send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(3000, 'a') + "\r\n\r\n");
  const auto reply = raw.receive(2000ms, "}}");
  EXPECT_EQ(reply.rfind("HTTP/1.1 431", 0), 0u) << reply;
  EXPECT_NE(reply.find("\"code\":\"headers_too_large\""), std::string::npos);
}

TEST_F(Limits, AnswersAClientThatStallsMidRequestWith408) {
  RawConnection raw(gateway_.port());
  raw.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"mo");
  const auto reply = raw.receive(3000ms, "}}");
  EXPECT_EQ(reply.rfind("HTTP/1.1 408", 0), 0u) << reply;
  EXPECT_TRUE(raw.closed_by_peer(1000ms));
}

TEST_F(Limits, AnswersGarbageWith400AndCloses) {
  RawConnection raw(gateway_.port());
  raw.send("HELLO THERE\r\n\r\n");
  const auto reply = raw.receive(2000ms, "}}");
  EXPECT_EQ(reply.rfind("HTTP/1.1 400", 0), 0u) << reply;
  EXPECT_TRUE(raw.closed_by_peer(1000ms));
}

TEST_F(Limits, ReadsAChunkedRequestBody) {
  const std::string body = chat_body("small").dump();
  const std::size_t half = body.size() / 2;
  std::ostringstream chunks;
  chunks << std::hex << half << "\r\n"
         << body.substr(0, half) << "\r\n"
         << body.size() - half << ";note=x\r\n"
         << body.substr(half) << "\r\n0\r\n\r\n";
  RawConnection raw(gateway_.port());
  raw.send(
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Transfer-Encoding: chunked\r\n\r\n" +
      chunks.str());
  const auto reply = raw.receive(3000ms, "Hello from mock.");
  EXPECT_EQ(reply.rfind("HTTP/1.1 200", 0), 0u) << reply;
  EXPECT_EQ(mock_.stats()["requests"].value("POST /v1/chat/completions", 0), 1);
}

// A body whose end two servers could see in two places (request smuggling): refused, and the
// connection closed, so nothing after it is read as another request.
TEST_F(Limits, RefusesAmbiguousFramingWith400AndCloses) {
  for (const std::string framing :
       {"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "Content-Length: 5\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
        "Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n",
        // A header folded onto a second line (obs-fold), which servers unfold differently.
        "Content-Length: 5\r\nX-Folded: a\r\n b\r\n\r\n0\r\n\r\n",
        // Chunk sizes that are not hex, or too large to hold.
        "Transfer-Encoding: chunked\r\n\r\nzz\r\n0\r\n\r\n",
        "Transfer-Encoding: chunked\r\n\r\nfffffffffffffffff1\r\nx\r\n0\r\n\r\n"}) {
    RawConnection raw(gateway_.port());
    raw.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n" + framing +
             "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    const auto reply = raw.receive(2000ms, "}}");
    EXPECT_EQ(reply.rfind("HTTP/1.1 400", 0), 0u) << framing << reply;
    EXPECT_EQ(reply.find("HTTP/1.1 200"), std::string::npos) << framing << reply;
    EXPECT_TRUE(raw.closed_by_peer(1000ms)) << framing;
  }
  EXPECT_EQ(mock_.stats()["requests"].value("POST /v1/chat/completions", 0), 0);
}

TEST_F(Limits, Answers503PastTheConnectionLimit) {
  std::vector<std::unique_ptr<HttpClient>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(std::make_unique<HttpClient>(gateway_.port()));
    ASSERT_EQ(held.back()->get("/healthz").status, 200);
  }
  HttpClient extra(gateway_.port());
  expect_openai_error(extra.get("/healthz"), 503, "too_many_connections");
  held.pop_back();
  EXPECT_TRUE(eventually([&] {
    HttpClient again(gateway_.port());
    return again.get("/healthz").status == 200;
  }));
}

TEST(ClientLimits, OneClientAddressCannotTakeEveryConnection) {
  TempDir dir;
  Gateway gateway(dir,
                  "server:\n  workers: 2\n  max_connections: 10\n  max_connections_per_client: 2\n"
                  "providers:\n  local: { type: openai, base_url: \"http://127.0.0.1:9/v1\" }\n"
                  "models:\n  small: { provider: local }\n");
  std::vector<std::unique_ptr<HttpClient>> held;
  for (int i = 0; i < 2; ++i) {
    held.push_back(std::make_unique<HttpClient>(gateway.port()));
    ASSERT_EQ(held.back()->get("/healthz").status, 200);
  }
  // A third from the same address: refused, and closed.
  HttpClient third(gateway.port());
  const auto refused = third.get("/healthz");
  expect_openai_error(refused, 503, "too_many_connections");
  EXPECT_NE(refused.json_body()["error"]["message"].get<std::string>().find("client address"),
            std::string::npos);
  EXPECT_EQ(refused.header("retry-after"), "1");
  // Another address still gets in while the first holds its two.
  HttpClient other(gateway.port(), false, "127.0.0.2");
  EXPECT_EQ(other.get("/healthz").status, 200);
  // Once one of the two closes, the first address has room again.
  held.pop_back();
  EXPECT_TRUE(eventually([&] {
    HttpClient again(gateway.port());
    return again.get("/healthz").status == 200;
  }));
}

TEST_F(Limits, Sends100ContinueWhenAsked) {
  const std::string body = chat_body("small").dump();
  RawConnection raw(gateway_.port());
  raw.send(
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Expect: 100-continue\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n");
  const auto interim = raw.receive(2000ms, "\r\n\r\n");
  EXPECT_EQ(interim, "HTTP/1.1 100 Continue\r\n\r\n");
  raw.send(body);
  const auto reply = raw.receive(3000ms, "Hello from mock.");
  EXPECT_EQ(reply.rfind("HTTP/1.1 200", 0), 0u) << reply;
}

}  // namespace
}  // namespace switchyard::testing
