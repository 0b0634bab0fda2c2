// What the gateway reads from a chat completion request before routing it, and the OpenAI-shaped
// 400 it answers when the request is unusable; plus the model rewrite that relies on the exact
// span of the "model" value.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "switchyard/api/chat_request.hpp"

namespace switchyard::api {
namespace {

std::string read_fixture(const std::string& name) {
  std::ifstream in(std::string(SWITCHYARD_TEST_DATA) + "/requests/" + name, std::ios::binary);
  EXPECT_TRUE(in) << name;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The request, or a test failure naming the error it got instead.
ChatRequest parsed(std::string_view body) {
  auto result = parse_chat_request(body);
  if (!result) {
    ADD_FAILURE() << "rejected: " << result.error().message << "\n  body: " << body;
    return ChatRequest{};
  }
  return *std::move(result);
}

// The error, or a test failure if the body was accepted.
ApiError rejected(std::string_view body) {
  auto result = parse_chat_request(body);
  if (!result) return std::move(result).error();
  ADD_FAILURE() << "accepted: " << body;
  return ApiError{};
}

// What the dispatcher does to send the request upstream under another model name.
std::string with_model(const ChatRequest& r, std::string_view replacement_raw) {
  const std::string_view body = r.body();
  return std::string(body.substr(0, r.model_offset())) + std::string(replacement_raw) +
         std::string(body.substr(r.model_offset() + r.model_raw().size()));
}

constexpr std::string_view kMessages = R"("messages":[{"role":"user","content":"hi"}])";

std::string body_with(std::string_view fields) {
  return "{" + std::string(kMessages) + "," + std::string(fields) + "}";
}

TEST(ChatRequest, ReadsModelStreamUsageAndMessageCountFromARealisticRequest) {
  const std::string body = read_fixture("chat_stream_tools.json");
  const ChatRequest r = parsed(body);
  EXPECT_EQ(r.model(), "gpt-4o-mini");
  EXPECT_EQ(r.model_raw(), "\"gpt-4o-mini\"");
  EXPECT_EQ(r.model_offset(), body.find("\"gpt-4o-mini\""));
  EXPECT_TRUE(r.stream());
  EXPECT_TRUE(r.include_usage());
  EXPECT_EQ(r.message_count(), 4u);
  EXPECT_EQ(r.body().data(), body.data());
}

TEST(ChatRequest, ReadsThePreferredProviderFromMetadata) {
  EXPECT_EQ(
      parsed(body_with(R"("model":"m","metadata":{"preferred_provider":"anth\u0072opic","x":"y"})"))
          .preferred_provider(),
      "anthropic");
  EXPECT_EQ(parsed(body_with(R"("model":"m","metadata":{"x":"y"})")).preferred_provider(), "");
  EXPECT_EQ(parsed(body_with(R"("model":"m","metadata":null)")).preferred_provider(), "");
  const auto bad = rejected(body_with(R"("model":"m","metadata":{"preferred_provider":7})"));
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.param, "metadata.preferred_provider");
}

TEST(ChatRequest, DefaultsToNoStreamingAndNoUsageChunk) {
  const std::string body = read_fixture("chat_minimal.json");
  const ChatRequest r = parsed(body);
  EXPECT_EQ(r.model(), "m");
  EXPECT_FALSE(r.stream());
  EXPECT_FALSE(r.include_usage());
  EXPECT_EQ(r.message_count(), 1u);
}

TEST(ChatRequest, TreatsExplicitFalseAndNullAsNoStreaming) {
  for (const char* fields :
       {R"("model":"m","stream":false)", R"("model":"m","stream":null)",
        R"("model":"m","stream":false,"stream_options":null)",
        R"("model":"m","stream":true,"stream_options":{})",
        R"("model":"m","stream":true,"stream_options":{"include_usage":false})",
        R"("model":"m","stream":true,"stream_options":{"include_usage":null})"}) {
    const std::string body = body_with(fields);
    const ChatRequest r = parsed(body);
    EXPECT_EQ(r.stream(), std::string_view(fields).find("true") != std::string_view::npos)
        << fields;
    EXPECT_FALSE(r.include_usage()) << fields;
  }
}

TEST(ChatRequest, RejectsAnEmptyOrBlankBody) {
  for (const char* body : {"", " ", "\r\n\t "}) {
    const ApiError e = rejected(body);
    EXPECT_EQ(e.status, 400);
    EXPECT_EQ(e.type, "invalid_request_error");
    EXPECT_NE(e.message.find("empty"), std::string::npos) << e.message;
  }
}

TEST(ChatRequest, RejectsMalformedJsonNamingTheByteOffset) {
  const struct {
    const char* body;
    std::size_t offset;
  } cases[] = {
      {R"({"model":"m",})", 13},
      {R"({"model":"m","messages":[{"role":"user"}]} trailing)", 43},
      {R"({"model":"m","messages":[)", 25},
      {"{\"model\":\"bad\xFFutf8\"}", 13},
      {R"([1,)", 3},
      {R"(nope)", 0},
  };
  for (const auto& c : cases) {
    const ApiError e = rejected(c.body);
    EXPECT_EQ(e.status, 400) << c.body;
    EXPECT_EQ(e.type, "invalid_request_error");
    EXPECT_NE(e.message.find("We could not parse the JSON body"), std::string::npos) << e.message;
    EXPECT_NE(e.message.find("at byte " + std::to_string(c.offset) + "."), std::string::npos)
        << e.message;
    EXPECT_EQ(e.param, "");
    EXPECT_EQ(e.code, "");
  }
}

TEST(ChatRequest, RejectsABodyThatIsValidJsonButNotAnObject) {
  for (const char* body : {"[]", R"(["model","m"])", R"("model")", "42", "null", " true "}) {
    const ApiError e = rejected(body);
    EXPECT_EQ(e.status, 400) << body;
    EXPECT_EQ(e.message, "The request body must be a JSON object.") << body;
  }
}

TEST(ChatRequest, RejectsAMissingNullOrEmptyModel) {
  for (const std::string& body :
       {"{" + std::string(kMessages) + "}", body_with(R"("model":null)"),
        body_with(R"("model":"")"), body_with(R"("Model":"m")"), body_with(R"("models":"m")")}) {
    const ApiError e = rejected(body);
    EXPECT_EQ(e.status, 400) << body;
    EXPECT_EQ(e.message, "you must provide a model parameter") << body;
    EXPECT_EQ(e.param, "model") << body;
    EXPECT_EQ(e.code, "missing_required_parameter") << body;
  }
}

TEST(ChatRequest, RejectsAModelThatIsNotAString) {
  const struct {
    const char* value;
    const char* got;
  } cases[] = {{"42", "a number"},
               {"true", "a boolean"},
               {R"(["m"])", "an array"},
               {R"({"name":"m"})", "an object"}};
  for (const auto& c : cases) {
    const std::string body = body_with(std::string(R"("model":)") + c.value);
    const ApiError e = rejected(body);
    EXPECT_EQ(e.status, 400);
    EXPECT_EQ(e.message, std::string("Invalid type for 'model': expected a string, but got ") +
                             c.got + " instead.");
    EXPECT_EQ(e.param, "model");
    EXPECT_EQ(e.code, "invalid_type");
  }
}

TEST(ChatRequest, RejectsMissingMessages) {
  const ApiError e = rejected(R"({"model":"m"})");
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.message, "Missing required parameter: 'messages'.");
  EXPECT_EQ(e.param, "messages");
  EXPECT_EQ(e.code, "missing_required_parameter");
}

TEST(ChatRequest, RejectsMessagesThatAreNotAnArray) {
  for (const char* messages : {R"("hi")", R"({"role":"user","content":"hi"})", "null", "1"}) {
    const std::string body = std::string(R"({"model":"m","messages":)") + messages + "}";
    const ApiError e = rejected(body);
    EXPECT_EQ(e.status, 400) << body;
    EXPECT_EQ(e.param, "messages") << body;
    EXPECT_EQ(e.code, "invalid_type") << body;
    EXPECT_NE(e.message.find("expected an array"), std::string::npos) << e.message;
  }
}

TEST(ChatRequest, RejectsAnEmptyMessagesArray) {
  const ApiError e = rejected(R"({"model":"m","messages":[ ]})");
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.param, "messages");
  EXPECT_EQ(e.code, "empty_array");
}

TEST(ChatRequest, RejectsAMessageThatIsNotAnObjectNamingItsIndex) {
  const ApiError e =
      rejected(R"({"model":"m","messages":[{"role":"user","content":"a"},"b",{"role":"x"}]})");
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.param, "messages[1]");
  EXPECT_EQ(e.code, "invalid_type");
  EXPECT_EQ(e.message,
            "Invalid type for 'messages[1]': expected an object, but got a string "
            "instead.");
}

TEST(ChatRequest, RejectsAMessageWithoutARole) {
  const ApiError e =
      rejected(R"({"model":"m","messages":[{"role":"user"},{"content":"hi","name":"role"}]})");
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.message, "Missing required parameter: 'messages[1].role'.");
  EXPECT_EQ(e.param, "messages");
  EXPECT_EQ(e.code, "missing_required_parameter");
}

TEST(ChatRequest, RejectsARoleThatIsNotAString) {
  const ApiError e = rejected(R"({"model":"m","messages":[{"role":["user"]}]})");
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.param, "messages[0].role");
  EXPECT_EQ(e.code, "invalid_type");
}

TEST(ChatRequest, RejectsAnUnknownRoleNamingIt) {
  for (const char* role : {"robot", "User", "", "system "}) {
    const std::string body =
        std::string(R"({"model":"m","messages":[{"role":")") + role + R"(","content":"x"}]})";
    const ApiError e = rejected(body);
    EXPECT_EQ(e.status, 400) << body;
    EXPECT_EQ(e.param, "messages") << body;
    EXPECT_EQ(e.code, "invalid_value") << body;
    EXPECT_EQ(e.message.rfind(std::string("Invalid value: '") + role + "'.", 0), 0u) << e.message;
  }
}

TEST(ChatRequest, AcceptsEveryOpenAiRoleIncludingEscapedSpellings) {
  const std::string body =
      R"({"model":"m","messages":[{"role":"system"},{"role":"developer"},{"role":"user"},)"
      R"({"role":"assistant"},{"role":"tool"},{"role":"function"},{"role":"\u0075ser"}]})";
  EXPECT_EQ(parsed(body).message_count(), 7u);
}

TEST(ChatRequest, RejectsAStreamFlagThatIsNotABoolean) {
  for (const char* stream : {R"("true")", "1", "{}"}) {
    const std::string body = body_with(std::string(R"("model":"m","stream":)") + stream);
    const ApiError e = rejected(body);
    EXPECT_EQ(e.status, 400) << body;
    EXPECT_EQ(e.param, "stream") << body;
    EXPECT_EQ(e.code, "invalid_type") << body;
  }
}

TEST(ChatRequest, RejectsStreamOptionsThatAreNotAnObject) {
  for (const char* options : {"true", R"("include_usage")", "[]"}) {
    const std::string body =
        body_with(std::string(R"("model":"m","stream":true,"stream_options":)") + options);
    const ApiError e = rejected(body);
    EXPECT_EQ(e.param, "stream_options") << body;
    EXPECT_EQ(e.code, "invalid_type") << body;
  }
}

TEST(ChatRequest, RejectsAnIncludeUsageFlagThatIsNotABoolean) {
  const ApiError e =
      rejected(body_with(R"("model":"m","stream":true,"stream_options":{"include_usage":"yes"})"));
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.param, "stream_options.include_usage");
  EXPECT_EQ(e.code, "invalid_type");
}

TEST(ChatRequest, ReadsIncludeUsageAmongOtherStreamOptions) {
  const std::string body = body_with(
      R"("model":"m","stream":true,"stream_options":{"include_obfuscation":false,"include_usage":true})");
  EXPECT_TRUE(parsed(body).include_usage());
}

TEST(ChatRequest, RejectsADuplicateModelKeyHoweverItIsSpelled) {
  // Upstreams differ on which duplicate wins, so the routed model and the billed one could differ.
  for (const std::string& body : {body_with(R"("model":"cheap","model":"expensive")"),
                                  body_with(R"("model":"cheap","mod\u0065l":"expensive")"),
                                  body_with(R"("model":null,"model":"m")")}) {
    const ApiError e = rejected(body);
    EXPECT_EQ(e.status, 400) << body;
    EXPECT_EQ(e.param, "model") << body;
    EXPECT_EQ(e.code, "duplicate_key") << body;
  }
}

TEST(ChatRequest, RejectsDuplicateStreamAndMessagesKeys) {
  EXPECT_EQ(rejected(body_with(R"("model":"m","stream":false,"stream":true)")).param, "stream");
  EXPECT_EQ(rejected(body_with(R"("model":"m","messages":[{"role":"user"}])")).param, "messages");
}

TEST(ChatRequest, DecodesAnEscapedModelNameButKeepsItsRawSpanExact) {
  const std::string body = body_with(R"("model" :  "gpt\u002d4o\/mini\"x")");
  const ChatRequest r = parsed(body);
  EXPECT_EQ(r.model(), "gpt-4o/mini\"x");
  EXPECT_EQ(r.model_raw(), R"("gpt\u002d4o\/mini\"x")");
  EXPECT_EQ(body.substr(r.model_offset(), r.model_raw().size()), r.model_raw());
}

TEST(ChatRequest, KeepsTheDecodedModelNameWhenCopied) {
  const std::string body = body_with(R"("model":"gpt\u002d4o")");
  const ChatRequest original = parsed(body);
  const ChatRequest copy = original;  // NOLINT(performance-unnecessary-copy-initialization)
  EXPECT_EQ(copy.model(), "gpt-4o");
  EXPECT_EQ(copy.model_offset(), original.model_offset());
}

TEST(ChatRequest, CountsAnEscapedModelKeyAsTheModel) {
  const std::string body = body_with(R"("mod\u0065l":"m")");
  const ChatRequest r = parsed(body);
  EXPECT_EQ(r.model(), "m");
  EXPECT_EQ(r.model_raw(), "\"m\"");
}

TEST(ChatRequest, IgnoresUnknownFieldsAndModelKeysNestedInOtherValues) {
  const std::string body =
      R"({"metadata":{"model":"evil","stream":"x"},"model":"m","x_extra":[{"model":1}],)"
      R"("messages":[{"role":"user","content":"\"model\":\"evil\"","model":"evil"}],)"
      R"("temperature":0.5,"n":1,"tools":[],"seed":null,"stream":false})";
  const ChatRequest r = parsed(body);
  EXPECT_EQ(r.model(), "m");
  EXPECT_EQ(r.model_offset(), body.find("\"m\""));
  EXPECT_FALSE(r.stream());
}

TEST(ChatRequest, RewritingTheModelSpanChangesOnlyTheModel) {
  std::vector<std::string> bodies = {
      read_fixture("chat_stream_tools.json"),
      read_fixture("chat_minimal.json"),
      body_with(R"("model":"gpt\u002d4o")"),
      body_with(R"("mod\u0065l" : "\ud83d\ude00")"),
      R"( { "model"	:	"m" , "messages" : [ {"role":"user","content":"model"} ] } )",
      R"({"messages":[{"role":"user","content":"hi"}],"metadata":{"model":"a"},"model":"b"})",
      "{\"model\":\"caf\xC3\xA9\",\"messages\":[{\"role\":\"user\"}]}",
  };
  for (const std::string& body : bodies) {
    const ChatRequest r = parsed(body);
    for (const char* replacement : {R"("x")", R"("a\"quoted\\name")", R"("")"}) {
      const std::string rewritten = with_model(r, replacement);
      nlohmann::json before = nlohmann::json::parse(body);
      nlohmann::json after = nlohmann::json::parse(rewritten);
      EXPECT_EQ(after["model"], nlohmann::json::parse(replacement)) << rewritten;
      before.erase("model");
      after.erase("model");
      EXPECT_EQ(after, before) << rewritten;
    }
  }
}

TEST(ChatRequest, ReparsesARewrittenBodyWithTheNewModel) {
  const std::string body = read_fixture("chat_stream_tools.json");
  const std::string rewritten = with_model(parsed(body), R"("upstream/model-v2")");
  const ChatRequest r = parsed(rewritten);
  EXPECT_EQ(r.model(), "upstream/model-v2");
  EXPECT_TRUE(r.stream());
  EXPECT_TRUE(r.include_usage());
  EXPECT_EQ(r.message_count(), 4u);
}

}  // namespace
}  // namespace switchyard::api
