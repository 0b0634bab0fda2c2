// A Messages API request as the chat completion request that asks the same: what is translated,
// what is named as left out, and the 400s Anthropic would answer for a malformed request.
#include "switchyard/api/messages_to_chat.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "switchyard/api/chat_request.hpp"

namespace switchyard::api {
namespace {

using Json = nlohmann::json;

// The translation, or a test failure naming the error it got instead.
ChatEquivalent translated(std::string_view body) {
  auto result = messages_to_chat(body);
  if (!result) {
    ADD_FAILURE() << "rejected: " << result.error().message << "\n  body: " << body;
    return ChatEquivalent{};
  }
  return *std::move(result);
}

// The chat body of a translation that left nothing out.
Json chat_of(std::string_view body) {
  const ChatEquivalent chat = translated(body);
  EXPECT_EQ(chat.left_out, "") << body;
  return Json::parse(chat.body, nullptr, false);
}

// The error, or a test failure if the body was accepted.
ApiError rejected(std::string_view body) {
  auto result = messages_to_chat(body);
  if (!result) return std::move(result).error();
  ADD_FAILURE() << "accepted: " << body << "\n  as: " << result->body;
  return ApiError{};
}

// A request with one user message "hi" and the given extra members.
std::string request_with(std::string_view members) {
  std::string body = R"({"model":"m","max_tokens":100,"messages":[{"role":"user","content":"hi"}])";
  if (!members.empty()) body += "," + std::string(members);
  return body + "}";
}

// A request with the given messages.
std::string conversation(std::string_view messages) {
  return R"({"model":"m","max_tokens":100,"messages":)" + std::string(messages) + "}";
}

TEST(MessagesToChat, PlainRequestIsWhatAnOpenAiClientWouldSend) {
  const std::string body =
      R"({"model":"m","max_tokens":100,"temperature":0,"messages":[{"role":"user","content":"hi"}]})";
  const ChatEquivalent chat = translated(body);
  EXPECT_EQ(chat.left_out, "");
  EXPECT_EQ(Json::parse(chat.body), Json::parse(R"({"model":"m","messages":[{"role":"user",
      "content":"hi"}],"max_tokens":100,"temperature":0})"));
}

TEST(MessagesToChat, MembersComeInAFixedOrderWhateverTheRequestsOrder) {
  const ChatEquivalent a = translated(
      R"({"temperature":0.5,"messages":[{"role":"user","content":"hi"}],"max_tokens":9,"model":"m",
          "stream":true})");
  const ChatEquivalent b = translated(
      R"({"model":"m","stream":true,"max_tokens":9,"temperature":0.5,
          "messages":[{"role":"user","content":"hi"}]})");
  EXPECT_EQ(a.body, b.body);
  EXPECT_EQ(a.body, R"({"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":9,)"
                    R"("temperature":0.5,"stream":true,"stream_options":{"include_usage":true}})");
}

TEST(MessagesToChat, SystemStringBecomesFirstMessage) {
  const Json chat = chat_of(request_with(R"("system":"Be brief.")"));
  EXPECT_EQ(chat["messages"], Json::parse(R"([{"role":"system","content":"Be brief."},
      {"role":"user","content":"hi"}])"));
}

TEST(MessagesToChat, SingleSystemBlockBecomesStringAndCacheControlIsIgnored) {
  const Json chat = chat_of(request_with(
      R"("system":[{"type":"text","text":"Be brief.","cache_control":{"type":"ephemeral"}}])"));
  EXPECT_EQ(chat["messages"][0], Json::parse(R"({"role":"system","content":"Be brief."})"));
}

TEST(MessagesToChat, SeveralSystemBlocksBecomeTextParts) {
  const Json chat =
      chat_of(request_with(R"("system":[{"type":"text","text":"A"},{"type":"text","text":"B"}])"));
  EXPECT_EQ(chat["messages"][0], Json::parse(R"({"role":"system","content":
      [{"type":"text","text":"A"},{"type":"text","text":"B"}]})"));
}

TEST(MessagesToChat, EmptySystemAddsNoMessage) {
  EXPECT_EQ(chat_of(request_with(R"("system":"")"))["messages"].size(), 1u);
  EXPECT_EQ(chat_of(request_with(R"("system":[])"))["messages"].size(), 1u);
}

TEST(MessagesToChat, MultiTurnConversationKeepsItsOrder) {
  const Json chat = chat_of(conversation(R"([
      {"role":"user","content":"Hello"},
      {"role":"assistant","content":[{"type":"text","text":"Hi, "},{"type":"text","text":"there."}]},
      {"role":"user","content":[{"type":"text","text":"How are you?"}]}])"));
  EXPECT_EQ(chat["messages"], Json::parse(R"([{"role":"user","content":"Hello"},
      {"role":"assistant","content":"Hi, there."},{"role":"user","content":"How are you?"}])"));
}

TEST(MessagesToChat, SeveralUserTextBlocksStayParts) {
  const Json chat = chat_of(conversation(
      R"([{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}])"));
  EXPECT_EQ(chat["messages"][0]["content"],
            Json::parse(R"([{"type":"text","text":"a"},{"type":"text","text":"b"}])"));
}

TEST(MessagesToChat, Base64ImageBecomesDataUrl) {
  const Json chat = chat_of(conversation(R"([{"role":"user","content":[
      {"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBOR"}},
      {"type":"text","text":"What is this?"}]}])"));
  EXPECT_EQ(chat["messages"][0]["content"], Json::parse(R"([
      {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBOR"}},
      {"type":"text","text":"What is this?"}])"));
}

TEST(MessagesToChat, UrlImageKeepsItsUrl) {
  const Json chat = chat_of(conversation(R"([{"role":"user","content":[
      {"type":"image","source":{"type":"url","url":"https://example.com/cat.jpg"}}]}])"));
  EXPECT_EQ(chat["messages"][0]["content"], Json::parse(R"([
      {"type":"image_url","image_url":{"url":"https://example.com/cat.jpg"}}])"));
}

TEST(MessagesToChat, ImageFromAFileIsLeftOut) {
  const ChatEquivalent chat = translated(conversation(R"([{"role":"user","content":[
      {"type":"image","source":{"type":"file","file_id":"file_1"}},
      {"type":"text","text":"Describe it."}]}])"));
  EXPECT_EQ(chat.left_out, "an image source of type 'file'");
  EXPECT_EQ(Json::parse(chat.body)["messages"][0]["content"], "Describe it.");
}

TEST(MessagesToChat, ParallelToolCallsAndTheirResultsKeepTheirOrder) {
  const Json chat = chat_of(conversation(R"([
      {"role":"user","content":"Weather in Paris and Rome?"},
      {"role":"assistant","content":[
        {"type":"text","text":"Checking."},
        {"type":"tool_use","id":"toolu_1","name":"weather","input":{"city":"Paris"}},
        {"type":"tool_use","id":"toolu_2","name":"weather","input":{"city":"Rome"}}]},
      {"role":"user","content":[
        {"type":"tool_result","tool_use_id":"toolu_1","content":"18C"},
        {"type":"tool_result","tool_use_id":"toolu_2",
         "content":[{"type":"text","text":"24C"},{"type":"text","text":"sunny"}]}]}])"));
  EXPECT_EQ(chat["messages"], Json::parse(R"([
      {"role":"user","content":"Weather in Paris and Rome?"},
      {"role":"assistant","content":"Checking.","tool_calls":[
        {"id":"toolu_1","type":"function",
         "function":{"name":"weather","arguments":"{\"city\":\"Paris\"}"}},
        {"id":"toolu_2","type":"function",
         "function":{"name":"weather","arguments":"{\"city\":\"Rome\"}"}}]},
      {"role":"tool","tool_call_id":"toolu_1","content":"18C"},
      {"role":"tool","tool_call_id":"toolu_2","content":"24C\nsunny"}])"));
}

TEST(MessagesToChat, AssistantTurnWithOnlyToolCallsHasNullContent) {
  const Json chat = chat_of(conversation(R"([{"role":"user","content":"Go"},
      {"role":"assistant","content":[{"type":"tool_use","id":"t","name":"f","input":{}}]}])"));
  EXPECT_TRUE(chat["messages"][1]["content"].is_null());
  EXPECT_EQ(chat["messages"][1]["tool_calls"][0]["function"]["arguments"], "{}");
}

TEST(MessagesToChat, ToolResultBecomesToolMessageBeforeTheTurnsText) {
  const Json chat = chat_of(conversation(R"([{"role":"user","content":[
      {"type":"tool_result","tool_use_id":"t1","content":"42"},
      {"type":"text","text":"Now explain."}]}])"));
  EXPECT_EQ(chat["messages"], Json::parse(R"([
      {"role":"tool","tool_call_id":"t1","content":"42"},
      {"role":"user","content":"Now explain."}])"));
}

TEST(MessagesToChat, FailedToolResultSaysError) {
  const Json chat = chat_of(conversation(R"([{"role":"user","content":[
      {"type":"tool_result","tool_use_id":"t1","content":"no such city","is_error":true}]}])"));
  EXPECT_EQ(chat["messages"][0]["content"], "Error: no such city");
}

TEST(MessagesToChat, ToolResultWithoutContentIsEmptyText) {
  const Json chat = chat_of(
      conversation(R"([{"role":"user","content":[{"type":"tool_result","tool_use_id":"t1"}]}])"));
  EXPECT_EQ(chat["messages"], Json::parse(R"([{"role":"tool","tool_call_id":"t1","content":""}])"));
}

TEST(MessagesToChat, ToolResultImageFollowsInAUserMessage) {
  const Json chat = chat_of(conversation(R"([{"role":"user","content":[
      {"type":"tool_result","tool_use_id":"t1","content":[
        {"type":"text","text":"Screenshot taken."},
        {"type":"image","source":{"type":"base64","media_type":"image/jpeg","data":"AAA"}}]}]}])"));
  EXPECT_EQ(chat["messages"], Json::parse(R"([
      {"role":"tool","tool_call_id":"t1","content":"Screenshot taken."},
      {"role":"user","content":[
        {"type":"image_url","image_url":{"url":"data:image/jpeg;base64,AAA"}}]}])"));
}

TEST(MessagesToChat, DocumentInsideAToolResultIsLeftOut) {
  const ChatEquivalent chat = translated(conversation(R"([{"role":"user","content":[
      {"type":"tool_result","tool_use_id":"t1","content":[{"type":"text","text":"Found:"},
        {"type":"document","source":{"type":"text","media_type":"text/plain","data":"x"}}]}]}])"));
  EXPECT_EQ(chat.left_out, "a 'document' content block");
  EXPECT_EQ(Json::parse(chat.body)["messages"],
            Json::parse(R"([{"role":"tool","tool_call_id":"t1","content":"Found:"}])"));
}

TEST(MessagesToChat, ThinkingBlocksOfEarlierTurnsAreDroppedSilently) {
  const Json chat = chat_of(conversation(R"([{"role":"user","content":"2+2?"},
      {"role":"assistant","content":[
        {"type":"thinking","thinking":"Easy.","signature":"sig"},
        {"type":"redacted_thinking","data":"xyz"},
        {"type":"text","text":"4"}]},
      {"role":"user","content":"Sure?"}])"));
  EXPECT_EQ(chat["messages"][1], Json::parse(R"({"role":"assistant","content":"4"})"));
}

TEST(MessagesToChat, AssistantTurnWithNothingToSayHasEmptyContent) {
  const Json chat = chat_of(conversation(R"([{"role":"user","content":"hi"},
      {"role":"assistant","content":[{"type":"thinking","thinking":"Hm.","signature":"s"}]}])"));
  EXPECT_EQ(chat["messages"][1], Json::parse(R"({"role":"assistant","content":""})"));
}

TEST(MessagesToChat, DocumentBlockIsLeftOutAndDropped) {
  const ChatEquivalent chat = translated(conversation(R"([{"role":"user","content":[
      {"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBE"}},
      {"type":"text","text":"Summarise."}]}])"));
  EXPECT_EQ(chat.left_out, "a 'document' content block");
  EXPECT_EQ(Json::parse(chat.body)["messages"],
            Json::parse(R"([{"role":"user","content":"Summarise."}])"));
}

TEST(MessagesToChat, FirstThingLeftOutIsTheOneNamed) {
  const ChatEquivalent chat = translated(conversation(R"([{"role":"user","content":[
      {"type":"search_result","source":"s","title":"t","content":[]},
      {"type":"document","source":{"type":"text","media_type":"text/plain","data":"x"}}]}])"));
  EXPECT_EQ(chat.left_out, "a 'search_result' content block");
}

TEST(MessagesToChat, ServerToolUseInAssistantTurnIsLeftOut) {
  const ChatEquivalent chat = translated(conversation(R"([{"role":"user","content":"news?"},
      {"role":"assistant","content":[{"type":"server_tool_use","id":"s1","name":"web_search",
        "input":{"query":"news"}}]}])"));
  EXPECT_EQ(chat.left_out, "a 'server_tool_use' content block");
}

TEST(MessagesToChat, ClientToolBecomesFunction) {
  const Json chat = chat_of(request_with(R"("tools":[
      {"name":"weather","description":"Current weather","input_schema":{"type":"object",
        "properties":{"city":{"type":"string"}}},"cache_control":{"type":"ephemeral"}},
      {"type":"custom","name":"clock","input_schema":{"type":"object"}}])"));
  EXPECT_EQ(chat["tools"], Json::parse(R"([
      {"type":"function","function":{"name":"weather","description":"Current weather",
        "parameters":{"type":"object","properties":{"city":{"type":"string"}}}}},
      {"type":"function","function":{"name":"clock","parameters":{"type":"object"}}}])"));
}

TEST(MessagesToChat, ServerToolIsLeftOutAndTheClientToolsKept) {
  const ChatEquivalent chat = translated(request_with(R"("tools":[
      {"type":"web_search_20250305","name":"web_search","max_uses":3},
      {"name":"clock","input_schema":{"type":"object"}}])"));
  EXPECT_EQ(chat.left_out, "the server tool 'web_search_20250305'");
  EXPECT_EQ(Json::parse(chat.body)["tools"].size(), 1u);
}

TEST(MessagesToChat, UnknownTopLevelParameterIsLeftOut) {
  const ChatEquivalent chat =
      translated(request_with(R"("mcp_servers":[{"type":"url","url":"https://x","name":"x"}])"));
  EXPECT_EQ(chat.left_out, "the 'mcp_servers' parameter");
  EXPECT_FALSE(Json::parse(chat.body).contains("mcp_servers"));
}

TEST(MessagesToChat, HintsChatLacksAreDroppedSilently) {
  const Json chat = chat_of(request_with(R"("top_k":40,"service_tier":"auto")"));
  EXPECT_FALSE(chat.contains("top_k"));
  EXPECT_FALSE(chat.contains("service_tier"));
}

TEST(MessagesToChat, ToolChoiceFormsMapToChatsOwn) {
  const std::string tools = R"("tools":[{"name":"f","input_schema":{"type":"object"}}],)";
  EXPECT_EQ(chat_of(request_with(tools + R"("tool_choice":{"type":"auto"})"))["tool_choice"],
            "auto");
  EXPECT_EQ(chat_of(request_with(tools + R"("tool_choice":{"type":"any"})"))["tool_choice"],
            "required");
  EXPECT_EQ(chat_of(request_with(tools + R"("tool_choice":{"type":"none"})"))["tool_choice"],
            "none");
  EXPECT_EQ(
      chat_of(request_with(tools + R"("tool_choice":{"type":"tool","name":"f"})"))["tool_choice"],
      Json::parse(R"({"type":"function","function":{"name":"f"}})"));
}

TEST(MessagesToChat, DisabledParallelToolUseTurnsParallelToolCallsOff) {
  const Json chat = chat_of(request_with(
      R"("tools":[{"name":"f","input_schema":{"type":"object"}}],
         "tool_choice":{"type":"auto","disable_parallel_tool_use":true})"));
  EXPECT_EQ(chat["parallel_tool_calls"], false);
}

TEST(MessagesToChat, ToolChoiceWithoutToolsIsNotSent) {
  const Json chat = chat_of(request_with(R"("tool_choice":{"type":"auto"})"));
  EXPECT_FALSE(chat.contains("tool_choice"));
  EXPECT_FALSE(chat.contains("tools"));
}

TEST(MessagesToChat, StopSequencesBecomeStop) {
  EXPECT_EQ(chat_of(request_with(R"("stop_sequences":["END","\n\n"])"))["stop"],
            Json::parse(R"(["END","\n\n"])"));
  EXPECT_FALSE(chat_of(request_with(R"("stop_sequences":[])")).contains("stop"));
}

TEST(MessagesToChat, MetadataUserIdBecomesUser) {
  const Json chat = chat_of(request_with(R"("metadata":{"user_id":"u-42","other":1})"));
  EXPECT_EQ(chat["user"], "u-42");
  EXPECT_FALSE(chat.contains("metadata"));
}

TEST(MessagesToChat, StreamAsksForUsage) {
  const Json chat = chat_of(request_with(R"("stream":true)"));
  EXPECT_EQ(chat["stream"], true);
  EXPECT_EQ(chat["stream_options"], Json::parse(R"({"include_usage":true})"));
  EXPECT_FALSE(chat_of(request_with(R"("stream":false)")).contains("stream_options"));
}

TEST(MessagesToChat, TemperatureAndTopPAreCopied) {
  const Json chat = chat_of(request_with(R"("temperature":0.7,"top_p":0.9)"));
  EXPECT_EQ(chat["temperature"], 0.7);
  EXPECT_EQ(chat["top_p"], 0.9);
}

TEST(MessagesToChat, ThinkingBudgetBecomesReasoningEffortAndCompletionLimit) {
  const Json low = chat_of(request_with(R"("thinking":{"type":"enabled","budget_tokens":1024})"));
  EXPECT_EQ(low["reasoning_effort"], "low");
  EXPECT_EQ(low["max_completion_tokens"], 100);
  EXPECT_FALSE(low.contains("max_tokens"));
  EXPECT_EQ(chat_of(request_with(
                R"("thinking":{"type":"enabled","budget_tokens":4096})"))["reasoning_effort"],
            "medium");
  EXPECT_EQ(chat_of(request_with(
                R"("thinking":{"type":"enabled","budget_tokens":16384})"))["reasoning_effort"],
            "high");
}

TEST(MessagesToChat, DisabledThinkingAsksNoReasoning) {
  const Json chat = chat_of(request_with(R"("thinking":{"type":"disabled"})"));
  EXPECT_FALSE(chat.contains("reasoning_effort"));
  EXPECT_EQ(chat["max_tokens"], 100);
}

TEST(MessagesToChat, AdaptiveThinkingAsksMediumEffort) {
  EXPECT_EQ(chat_of(request_with(R"("thinking":{"type":"adaptive"})"))["reasoning_effort"],
            "medium");
}

TEST(MessagesToChat, OutputFormatBecomesJsonSchemaResponseFormat) {
  const Json expected = Json::parse(R"({"type":"json_schema","json_schema":{"name":"output",
      "schema":{"type":"object","properties":{"a":{"type":"integer"}}}}})");
  const std::string schema = R"({"type":"object","properties":{"a":{"type":"integer"}}})";
  EXPECT_EQ(chat_of(request_with(R"("output_format":{"type":"json_schema","schema":)" + schema +
                                 "}"))["response_format"],
            expected);
  EXPECT_EQ(chat_of(request_with(R"("output_config":{"format":{"type":"json_schema","schema":)" +
                                 schema + "}}"))["response_format"],
            expected);
}

TEST(MessagesToChat, TranslationIsAChatRequestTheGatewayAccepts) {
  const ChatEquivalent chat = translated(R"({"model":"m","max_tokens":50,"stream":true,
      "system":"Be brief.","tools":[{"name":"f","input_schema":{"type":"object"}}],
      "messages":[{"role":"user","content":"Go"},
        {"role":"assistant","content":[{"type":"tool_use","id":"t","name":"f","input":{}}]},
        {"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":"ok"}]}]})");
  auto request = parse_chat_request(chat.body);
  ASSERT_TRUE(request) << request.error().message;
  EXPECT_EQ(request->model(), "m");
  EXPECT_TRUE(request->stream());
  EXPECT_TRUE(request->include_usage());
  EXPECT_EQ(request->message_count(), 4u);
}

struct Malformed {
  std::string body;
  std::string param;
  std::string message;
};

TEST(MessagesToChat, MalformedRequestsAreRefusedAtTheirPath) {
  const std::string user_blocks = R"([{"role":"user","content":[)";
  const Malformed cases[] = {
      {R"({"max_tokens":1,"messages":[{"role":"user","content":"hi"}]})", "model",
       "model: Field required"},
      {R"({"model":7,"max_tokens":1,"messages":[{"role":"user","content":"hi"}]})", "model",
       "model: Input should be a valid string"},
      {R"({"model":"m","max_tokens":1.5,"messages":[{"role":"user","content":"hi"}]})",
       "max_tokens", "max_tokens: Input should be a valid integer"},
      {R"({"model":"m","max_tokens":0,"messages":[{"role":"user","content":"hi"}]})", "max_tokens",
       "max_tokens: Input should be greater than or equal to 1"},
      {R"({"model":"m","max_tokens":-5,"messages":[{"role":"user","content":"hi"}]})", "max_tokens",
       "max_tokens: Input should be greater than or equal to 1"},
      {R"({"model":"m","max_tokens":1})", "messages", "messages: Field required"},
      {conversation("[]"), "messages", "messages: List should have at least 1 item"},
      {conversation(R"({"role":"user"})"), "messages", "messages: Input should be a valid list"},
      {conversation(R"([{"role":"system","content":"x"}])"), "messages.0.role",
       "messages.0.role: Input should be 'user' or 'assistant'"},
      {conversation(R"([{"content":"x"}])"), "messages.0.role", "messages.0.role: Field required"},
      {conversation(R"([{"role":"user"}])"), "messages.0.content",
       "messages.0.content: Field required"},
      {conversation(R"([{"role":"user","content":5}])"), "messages.0.content",
       "messages.0.content: Input should be a valid string or list"},
      {conversation(user_blocks + R"("text"]}])"), "messages.0.content.0",
       "messages.0.content.0: Input should be a valid dictionary"},
      {conversation(user_blocks + R"({"text":"x"}]}])"), "messages.0.content.0.type",
       "messages.0.content.0.type: Field required"},
      {conversation(user_blocks + R"({"type":"text"}]}])"), "messages.0.content.0.text",
       "messages.0.content.0.text: Field required"},
      {conversation(R"([{"role":"user","content":"a"},{"role":"user","content":[)"
                    R"({"type":"tool_result","content":"x"}]}])"),
       "messages.1.content.0.tool_use_id", "messages.1.content.0.tool_use_id: Field required"},
      {conversation(user_blocks + R"({"type":"tool_result","tool_use_id":"t","is_error":"y"}]}])"),
       "messages.0.content.0.is_error",
       "messages.0.content.0.is_error: Input should be a valid boolean"},
      {conversation(user_blocks + R"({"type":"image","source":{"type":"base64","data":"A"}}]}])"),
       "messages.0.content.0.source.media_type",
       "messages.0.content.0.source.media_type: Field required"},
      {conversation(R"([{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"f",)"
                    R"("input":"{}"}]}])"),
       "messages.0.content.0.input",
       "messages.0.content.0.input: Input should be a valid dictionary"},
      {conversation(R"([{"role":"assistant","content":[{"type":"tool_use","name":"f",)"
                    R"("input":{}}]}])"),
       "messages.0.content.0.id", "messages.0.content.0.id: Field required"},
      {request_with(R"("system":[{"type":"image"}])"), "system.0.type",
       "system.0.type: Input should be 'text'"},
      {request_with(R"("system":7)"), "system", "system: Input should be a valid string or list"},
      {request_with(R"("stop_sequences":"END")"), "stop_sequences",
       "stop_sequences: Input should be a valid list"},
      {request_with(R"("stop_sequences":["a",1])"), "stop_sequences.1",
       "stop_sequences.1: Input should be a valid string"},
      {request_with(R"("temperature":"hot")"), "temperature",
       "temperature: Input should be a valid number"},
      {request_with(R"("top_p":true)"), "top_p", "top_p: Input should be a valid number"},
      {request_with(R"("metadata":{"user_id":5})"), "metadata.user_id",
       "metadata.user_id: Input should be a valid string"},
      {request_with(R"("stream":"yes")"), "stream", "stream: Input should be a valid boolean"},
      {request_with(R"("tools":{})"), "tools", "tools: Input should be a valid list"},
      {request_with(R"("tools":[{"input_schema":{}}])"), "tools.0.name",
       "tools.0.name: Field required"},
      {request_with(R"("tools":[{"name":"f","input_schema":"{}"}])"), "tools.0.input_schema",
       "tools.0.input_schema: Input should be a valid dictionary"},
      {request_with(R"("tool_choice":"auto")"), "tool_choice",
       "tool_choice: Input should be a valid dictionary"},
      {request_with(R"("tool_choice":{"type":"required"})"), "tool_choice.type",
       "tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'"},
      {request_with(R"("tool_choice":{"type":"tool"})"), "tool_choice.name",
       "tool_choice.name: Field required"},
      {request_with(R"("thinking":{"type":"enabled"})"), "thinking.budget_tokens",
       "thinking.budget_tokens: Field required"},
      {request_with(R"("output_format":{"type":"json_schema"})"), "output_format.schema",
       "output_format.schema: Field required"},
  };
  for (const auto& c : cases) {
    const ApiError error = rejected(c.body);
    EXPECT_EQ(error.status, 400) << c.body;
    EXPECT_EQ(error.type, "invalid_request_error") << c.body;
    EXPECT_EQ(error.param, c.param) << c.body;
    EXPECT_EQ(error.message, c.message) << c.body;
  }
}

TEST(MessagesToChat, TurnWhoseEveryBlockIsLeftOutStaysAsAnEmptyUserMessage) {
  auto result = messages_to_chat(R"({"model":"m","max_tokens":8,"messages":[{"role":"user",)"
                                 R"("content":[{"type":"document","source":{"type":"text",)"
                                 R"("media_type":"text/plain","data":"x"}}]}]})");
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_FALSE(result->left_out.empty());
  EXPECT_EQ(nlohmann::json::parse(result->body)["messages"],
            nlohmann::json::parse(R"([{"role":"user","content":""}])"));
  EXPECT_TRUE(parse_chat_request(result->body)) << "still a chat request the gateway reads";
}

TEST(MessagesToChat, CountTokensBodyWithoutMaxTokensHasNoTokenLimit) {
  auto result = messages_to_chat(R"({"model":"m","messages":[{"role":"user","content":"hi"}]})");
  ASSERT_TRUE(result) << result.error().message;
  const auto body = nlohmann::json::parse(result->body);
  EXPECT_FALSE(body.contains("max_tokens"));
  EXPECT_FALSE(body.contains("max_completion_tokens"));
}

TEST(MessagesToChat, BodyThatIsNotAnObjectIsRefused) {
  for (const std::string_view body : {"[]", "\"hi\"", "null", "42"}) {
    const ApiError error = rejected(body);
    EXPECT_EQ(error.status, 400) << body;
    EXPECT_EQ(error.param, "") << body;
  }
}

TEST(MessagesToChat, MalformedRequestIsRefusedEvenWhenSomethingWasLeftOut) {
  const ApiError error = rejected(R"({"model":"m","max_tokens":1,"container":"c",
      "messages":[{"role":"user","content":[{"type":"document"},{"type":"text"}]}]})");
  EXPECT_EQ(error.param, "messages.0.content.1.text");
}

// The `arguments` of the only tool call of a one-turn conversation whose assistant calls a tool
// with `input`.
std::string arguments_for(std::string_view input) {
  const Json chat = chat_of(conversation(
      R"([{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"f","input":)" +
      std::string(input) + "}]}]"));
  return chat["messages"][0]["tool_calls"][0]["function"]["arguments"].get<std::string>();
}

TEST(MessagesToChat, ToolInputArgumentsAreCompactWhateverTheInputsWhitespace) {
  EXPECT_EQ(arguments_for("{ \"code\" :\n\t\"if (a) {\\n\\treturn \\\"}{\\\";\\n}\" ,\r\n"
                          "  \"nested\" : { \"a\" : [ { } , [ ] , \"[ ] { }\" ] } }"),
            R"({"code":"if (a) {\n\treturn \"}{\";\n}","nested":{"a":[{},[],"[ ] { }"]}})");
}

TEST(MessagesToChat, ToolInputEscapesAreWrittenAsTheDumpWrote) {
  // Short escapes stay; \/ and \u become the character, but for the control characters, '"' and
  // '\\', which take the short escape or \u00xx in lower case.
  EXPECT_EQ(arguments_for(R"({"p":"C:\\dir\/f\u00e9\u0001\u001F\b\f\ud83d\ude80\u0022\u005c\t"})"),
            "{\"p\":\"C:\\\\dir/f\xC3\xA9\\u0001\\u001f\\b\\f\xF0\x9F\x9A\x80\\\"\\\\\\t\"}");
}

TEST(MessagesToChat, ToolInputNumbersAreWrittenAsTheDumpWrote) {
  EXPECT_EQ(arguments_for(R"({"n":[1,-0,2.50,1e2,1E-5,-0.0,18446744073709551616,-7,true,null]})"),
            R"({"n":[1,0,2.5,100.0,1e-05,-0.0,1.8446744073709552e+19,-7,true,null]})");
}

TEST(MessagesToChat, ToolInputKeyGivenTwiceKeepsItsFirstPlaceAndLastValue) {
  EXPECT_EQ(arguments_for(R"({"a":1,"b":{"x":true},"\u0061":[3]})"), R"({"a":[3],"b":{"x":true}})");
}

TEST(MessagesToChat, InputSchemaKeepsItsValue) {
  const std::string schema = R"({ "type" : "object", "properties" : { "q" : { "type" : "string",
      "description" : "a \"quoted\" {brace} [bracket] \\ back \u00e9", "minimum": 1.50 } },
      "required" : [ "q" ] })";
  const Json chat =
      chat_of(request_with(R"("tools":[{"name":"f","input_schema":)" + schema + "}]"));
  EXPECT_EQ(chat["tools"][0]["function"]["parameters"], Json::parse(schema));
}

TEST(MessagesToChat, EscapedAndUnicodeTextKeepsItsValue) {
  const Json chat = chat_of(conversation(
      R"([{"role":"user","content":[{"type":"text","text":"a\n\"b\"\t\u00e9 \ud83d\ude80 \/ \\"},)"
      R"({"type":"text","text":"caf\u00E9 日本"}]}])"));
  EXPECT_EQ(chat["messages"][0]["content"], Json::parse(R"([
      {"type":"text","text":"a\n\"b\"\t\u00e9 \ud83d\ude80 / \\"},
      {"type":"text","text":"caf\u00e9 日本"}])"));
}

TEST(MessagesToChat, LongTextsAreCopiedWhole) {
  std::string text;
  for (int i = 0; text.size() < (1 << 20); ++i)
    text += "line " + std::to_string(i) + "\\n\\\"q\\\" ";
  const Json chat = chat_of(conversation(
      R"([{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":")" + text +
      R"("}]},{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"f","input":)"
      R"({"content":")" +
      text + R"("}}]}])"));
  const std::string decoded = Json::parse('"' + text + '"').get<std::string>();
  EXPECT_EQ(chat["messages"][0]["content"], decoded);
  EXPECT_EQ(Json::parse(chat["messages"][1]["tool_calls"][0]["function"]["arguments"]
                            .get<std::string>())["content"],
            decoded);
}

TEST(MessagesToChat, KeysAndWordsAreReadHoweverEscapedAndTheLastOfAKeyCounts) {
  const ChatEquivalent chat = translated(
      R"({"model":"first","mod\u0065l":"m","max_tokens":5,"messages":[{"r\u006fle":"us\u0065r",)"
      R"("content":[{"type":"image","type":"text","text":"a","text":"b"}]}],"x":1,"x":null,"z":[]})");
  EXPECT_EQ(Json::parse(chat.body), Json::parse(R"({"model":"m","messages":[{"role":"user",
      "content":"b"}],"max_tokens":5})"));
  EXPECT_EQ(chat.left_out, "the 'z' parameter") << "x's last value is null";
}

TEST(MessagesToChat, BodyTheDomParserRefusedIsStillRefused) {
  // A lone surrogate escape and a number beyond a double's range, anywhere: valid JSON to our
  // scanner, but never a request the translation could say.
  for (const std::string& body :
       {request_with(R"("metadata":{"other":"\ud800"})"),
        request_with(R"("metadata":{"other":-1e400})"), request_with(R"("x\udc00":1)")}) {
    const ApiError error = rejected(body);
    EXPECT_EQ(error.status, 400) << body;
    EXPECT_EQ(error.message, "The request body must be a JSON object.") << body;
    EXPECT_EQ(error.param, "") << body;
  }
}

TEST(MessagesToChat, InvalidJsonIsRefusedWithWhereItBroke) {
  const ApiError error = rejected(R"({"model":"m","messages":[{"role":"user","content":"hi"}])");
  EXPECT_EQ(error.status, 400);
  EXPECT_TRUE(
      error.message.starts_with("We could not parse the JSON body of your request: "
                                "expected ',' or '}' in an object at byte 56."))
      << error.message;
}

}  // namespace
}  // namespace switchyard::api
