// What the gateway reads from a Messages request before routing it — model, stream, and the
// fields Anthropic requires — and the chat equivalent it makes only when something asks.
#include "switchyard/api/messages_request.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

namespace switchyard::api {
namespace {

constexpr std::string_view kHello =
    R"({"model":"claude","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"Hi"}]})";

TEST(MessagesRequest, ReadsModelAndStreamAndKeepsTheModelsBytes) {
  auto parsed = parse_messages_request(kHello, MessagesBody::message);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->model(), "claude");
  EXPECT_TRUE(parsed->stream());
  EXPECT_EQ(parsed->body().substr(parsed->model_offset(), parsed->model_raw().size()),
            "\"claude\"");
}

TEST(MessagesRequest, RefusesWhatAnthropicRefusesInItsWords) {
  struct Case {
    std::string_view body;
    MessagesBody kind;
    const char* message;
  };
  const Case cases[] = {
      {R"({"max_tokens":1,"messages":[]})", MessagesBody::message, "model: Field required"},
      {R"({"model":"m","messages":[]})", MessagesBody::message, "max_tokens: Field required"},
      {R"({"model":"m","max_tokens":-1,"messages":[]})", MessagesBody::message,
       "max_tokens: Input should be a positive integer"},
      {R"({"model":"m","max_tokens":1})", MessagesBody::message, "messages: Field required"},
      {R"({"model":"m","max_tokens":1,"messages":{}})", MessagesBody::message,
       "messages: Input should be a valid list"},
      {R"({"model":"m","max_tokens":1,"messages":[],"stream":"yes"})", MessagesBody::message,
       "stream: Input should be a valid boolean"},
      {R"({"model":"m","model":"n","max_tokens":1,"messages":[]})", MessagesBody::message,
       "model: duplicate key in the body"},
  };
  for (const auto& c : cases) {
    auto parsed = parse_messages_request(c.body, c.kind);
    ASSERT_FALSE(parsed) << c.body;
    EXPECT_EQ(parsed.error().status, 400);
    EXPECT_EQ(parsed.error().message, c.message) << c.body;
  }
  EXPECT_FALSE(parse_messages_request("{\"model\":", MessagesBody::message));
  EXPECT_FALSE(parse_messages_request("[]", MessagesBody::message));
}

TEST(MessagesRequest, CountingTokensNeedsNoMaxTokens) {
  const std::string_view body = R"({"model":"m","messages":[{"role":"user","content":"Hi"}]})";
  EXPECT_TRUE(parse_messages_request(body, MessagesBody::count_tokens));
  EXPECT_FALSE(parse_messages_request(body, MessagesBody::message));
}

TEST(MessagesRequest, ItsChatEquivalentIsMadeOnceAndViewsItsOwnBody) {
  auto parsed = parse_messages_request(kHello, MessagesBody::message);
  ASSERT_TRUE(parsed);
  const ChatRequest* chat = parsed->chat();
  ASSERT_NE(chat, nullptr) << parsed->chat_error().message;
  EXPECT_EQ(parsed->chat(), chat);
  EXPECT_EQ(chat->model(), "claude");
  EXPECT_TRUE(chat->stream());
  EXPECT_TRUE(chat->include_usage());
  EXPECT_TRUE(parsed->left_out().empty());
  EXPECT_EQ(nlohmann::json::parse(chat->body())["messages"],
            nlohmann::json::parse(R"([{"role":"user","content":"Hi"}])"));
}

TEST(MessagesRequest, SaysWhyThereIsNoChatEquivalent) {
  const std::string_view body =
      R"({"model":"m","max_tokens":8,"messages":[{"role":"robot","content":"Hi"}]})";
  auto parsed = parse_messages_request(body, MessagesBody::message);
  ASSERT_TRUE(parsed) << "the role is the translation's (or Anthropic's) to judge";
  EXPECT_EQ(parsed->chat(), nullptr);
  EXPECT_EQ(parsed->chat_error().status, 400);
  EXPECT_EQ(parsed->chat_error().param, "messages.0.role");
}

}  // namespace
}  // namespace switchyard::api
