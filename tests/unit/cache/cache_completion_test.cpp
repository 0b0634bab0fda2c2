// What the response cache stores and replays: a streamed answer assembled into the
// chat.completion a non-streaming request would have got, streams that must not be stored, a
// completion replayed as the chunks OpenAI would send, and the two agreeing with each other.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/cache/completion.hpp"

namespace switchyard::cache {
namespace {

using nlohmann::json;

// The data payloads of an SSE body made of "data: …\n\n" events.
std::vector<std::string> payloads(std::string_view sse) {
  std::vector<std::string> out;
  while (!sse.empty()) {
    const std::size_t end = sse.find("\n\n");
    EXPECT_NE(end, std::string_view::npos) << "unterminated event: " << sse;
    if (end == std::string_view::npos) break;
    const std::string_view event = sse.substr(0, end);
    EXPECT_EQ(event.substr(0, 6), "data: ") << event;
    out.emplace_back(event.substr(6));
    sse.remove_prefix(end + 2);
  }
  return out;
}

std::optional<std::string> assemble(const std::vector<std::string>& data) {
  StreamAssembler assembler;
  for (const auto& d : data) assembler.add(d);
  return assembler.completion();
}

const std::string kHead =
    R"({"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,)"
    R"("model":"gpt-4o-2024-08-06","system_fingerprint":"fp_1",)";

std::string chunk(std::string_view choices, std::string_view usage = "null") {
  return kHead + R"("choices":)" + std::string(choices) + R"(,"usage":)" + std::string(usage) + "}";
}

std::string content_chunk(std::string_view text, int index = 0) {
  return chunk(R"([{"index":)" + std::to_string(index) + R"(,"delta":{"content":)" +
               std::string(text) + R"(},"logprobs":null,"finish_reason":null}])");
}

std::string role_chunk(int index = 0) {
  return chunk(R"([{"index":)" + std::to_string(index) +
               R"(,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,)"
               R"("finish_reason":null}])");
}

std::string finish_chunk(std::string_view reason = "stop", int index = 0) {
  return chunk(R"([{"index":)" + std::to_string(index) +
               R"(,"delta":{},"logprobs":null,)"
               R"("finish_reason":")" +
               std::string(reason) + R"("}])");
}

const std::string kUsage = R"({"prompt_tokens":5,"completion_tokens":3,"total_tokens":8})";

std::vector<std::string> plain_stream() {
  return {role_chunk(),
          content_chunk(R"("Hel")"),
          content_chunk(R"("lo \"wörld\"\n")"),
          content_chunk(R"("\u00e9!")"),
          finish_chunk(),
          chunk("[]", kUsage),
          "[DONE]"};
}

const std::string kPlainCompletion =
    R"({"id":"chatcmpl-1","object":"chat.completion","created":1700000000,)"
    R"("model":"gpt-4o-2024-08-06","system_fingerprint":"fp_1","choices":[{"index":0,)"
    R"("message":{"role":"assistant","content":"Hello \"wörld\"\né!"},"logprobs":null,)"
    R"("finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":3,)"
    R"("total_tokens":8}})";

TEST(StreamAssembler, RebuildsTheCompletionFromAMultiChunkStream) {
  const auto completion = assemble(plain_stream());
  ASSERT_TRUE(completion);
  // The content is exact: escapes decoded once, nothing added or lost between chunks.
  EXPECT_EQ(*completion, kPlainCompletion);
  EXPECT_TRUE(storable_completion(*completion));
}

TEST(StreamAssembler, OrdersInterleavedChoicesByIndex) {
  const auto completion = assemble({role_chunk(1), role_chunk(0), content_chunk(R"("b")", 1),
                                    content_chunk(R"("a")", 0), finish_chunk("length", 1),
                                    finish_chunk("stop", 0), "[DONE]"});
  ASSERT_TRUE(completion);
  const json doc = json::parse(*completion);
  ASSERT_EQ(doc["choices"].size(), 2u);
  EXPECT_EQ(doc["choices"][0]["index"], 0);
  EXPECT_EQ(doc["choices"][0]["message"]["content"], "a");
  EXPECT_EQ(doc["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(doc["choices"][1]["message"]["content"], "b");
  EXPECT_EQ(doc["choices"][1]["finish_reason"], "length");
  EXPECT_FALSE(doc.contains("usage"));  // no usage chunk came
}

TEST(StreamAssembler, KeepsARefusalAndOtherTextFields) {
  const auto completion = assemble(
      {chunk(R"([{"index":0,"delta":{"role":"assistant","content":null,"refusal":"I can"},)"
             R"("finish_reason":null}])"),
       chunk(R"([{"index":0,"delta":{"refusal":"not."},"finish_reason":null}])"), finish_chunk(),
       "[DONE]"});
  ASSERT_TRUE(completion);
  const json message = json::parse(*completion)["choices"][0]["message"];
  EXPECT_EQ(message, json::parse(R"({"role":"assistant","content":null,"refusal":"I cannot."})"));

  const auto reasoning =
      assemble({chunk(R"([{"index":0,"delta":{"role":"assistant","reasoning_content":"Think"}}])"),
                chunk(R"([{"index":0,"delta":{"reasoning_content":"ing.","content":"42"}}])"),
                finish_chunk(), "[DONE]"});
  ASSERT_TRUE(reasoning);
  EXPECT_EQ(json::parse(*reasoning)["choices"][0]["message"],
            json::parse(R"({"role":"assistant","content":"42","reasoning_content":"Thinking."})"));
}

TEST(StreamAssembler, DoesNotStoreAStreamWithoutDone) {
  auto stream = plain_stream();
  stream.pop_back();
  EXPECT_FALSE(assemble(stream));
}

TEST(StreamAssembler, DoesNotStoreAStreamWithAnythingAfterDone) {
  auto stream = plain_stream();
  stream.push_back(content_chunk(R"("more")"));
  EXPECT_FALSE(assemble(stream));
}

TEST(StreamAssembler, DoesNotStoreAChoiceWithoutFinishReason) {
  EXPECT_FALSE(assemble({role_chunk(), content_chunk(R"("cut")"), "[DONE]"}));
  // One unfinished choice of two is enough.
  EXPECT_FALSE(assemble({role_chunk(0), role_chunk(1), finish_chunk("stop", 0), "[DONE]"}));
}

TEST(StreamAssembler, DoesNotStoreToolCalls) {
  EXPECT_FALSE(assemble(
      {role_chunk(),
       chunk(R"([{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function",)"
             R"("function":{"name":"get_w","arguments":""}}]},"finish_reason":null}])"),
       finish_chunk("tool_calls"), "[DONE]"}));
  EXPECT_FALSE(
      assemble({role_chunk(),
                chunk(R"([{"index":0,"delta":{"function_call":{"name":"f","arguments":"{}"}}}])"),
                finish_chunk(), "[DONE]"}));
  // An empty tool_calls list is no call.
  EXPECT_TRUE(assemble({role_chunk(), chunk(R"([{"index":0,"delta":{"tool_calls":[]}}])"),
                        finish_chunk(), "[DONE]"}));
}

TEST(StreamAssembler, DoesNotStoreAStreamWithAnErrorEventOrInvalidJson) {
  EXPECT_FALSE(assemble({role_chunk(), content_chunk(R"("a")"),
                         R"({"error":{"message":"overloaded","type":"server_error",)"
                         R"("param":null,"code":null}})",
                         finish_chunk(), "[DONE]"}));
  EXPECT_FALSE(assemble({role_chunk(), R"({"choices":[)", finish_chunk(), "[DONE]"}));
  EXPECT_FALSE(assemble({"[DONE]"}));  // no choices at all
}

TEST(ReplayAsSse, SendsTheChunksOpenAiWouldSend) {
  const std::string sse = replay_as_sse(kPlainCompletion, /*include_usage=*/true);
  const auto data = payloads(sse);
  ASSERT_EQ(data.size(), 5u);
  const json head = json::parse(data[0]);
  EXPECT_EQ(head, json::parse(R"({"id":"chatcmpl-1","object":"chat.completion.chunk",)"
                              R"("created":1700000000,"model":"gpt-4o-2024-08-06",)"
                              R"("system_fingerprint":"fp_1","choices":[{"index":0,)"
                              R"("delta":{"role":"assistant","content":""},"logprobs":null,)"
                              R"("finish_reason":null}],"usage":null})"));
  EXPECT_EQ(json::parse(data[1])["choices"][0]["delta"],
            json::parse(R"({"content":"Hello \"wörld\"\né!"})"));
  EXPECT_EQ(json::parse(data[2])["choices"][0],
            json::parse(R"({"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"})"));
  const json usage = json::parse(data[3]);
  EXPECT_EQ(usage["choices"], json::array());
  EXPECT_EQ(usage["usage"], json::parse(kUsage));
  EXPECT_EQ(data[4], "[DONE]");
  EXPECT_EQ(sse.substr(sse.size() - 14), "data: [DONE]\n\n");
}

TEST(ReplayAsSse, LeavesUsageOutUnlessAskedFor) {
  const auto data = payloads(replay_as_sse(kPlainCompletion, /*include_usage=*/false));
  ASSERT_EQ(data.size(), 4u);
  for (std::size_t i = 0; i + 1 < data.size(); ++i) {
    EXPECT_FALSE(json::parse(data[i]).contains("usage")) << data[i];
    EXPECT_EQ(json::parse(data[i])["choices"].size(), 1u) << data[i];
  }
}

TEST(ReplayAsSse, FedBackThroughTheAssemblerGivesTheSameCompletion) {
  const auto stored = assemble(plain_stream());
  ASSERT_TRUE(stored);
  EXPECT_EQ(assemble(payloads(replay_as_sse(*stored, true))), stored);

  json without_usage = json::parse(*stored);
  without_usage.erase("usage");
  const auto replayed = assemble(payloads(replay_as_sse(*stored, false)));
  ASSERT_TRUE(replayed);
  EXPECT_EQ(json::parse(*replayed), without_usage);
}

TEST(ReplayAsSse, RoundTripsANonStreamingCompletion) {
  // As OpenAI answers a non-streaming request: null and empty fields, several choices, logprobs.
  const std::string completion =
      R"({"id":"chatcmpl-2","object":"chat.completion","created":1,"model":"gpt-4o",)"
      R"("choices":[{"index":0,"message":{"role":"assistant","content":"Hi","refusal":null,)"
      R"("annotations":[]},"logprobs":{"content":[{"token":"Hi","logprob":-0.25,"bytes":[72,105],)"
      R"("top_logprobs":[]}],"refusal":null},"finish_reason":"stop"},)"
      R"({"index":1,"message":{"role":"assistant","content":null,"refusal":"No."},)"
      R"("logprobs":null,"finish_reason":"stop"}],)"
      R"("usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3,)"
      R"("completion_tokens_details":{"reasoning_tokens":0}},"service_tier":"default"})";
  ASSERT_TRUE(storable_completion(completion));
  const auto replayed = assemble(payloads(replay_as_sse(completion, true)));
  ASSERT_TRUE(replayed);
  json expected = json::parse(completion);
  expected["choices"][0]["message"].erase("refusal");  // null: nothing to stream
  expected["choices"][0]["message"].erase("annotations");
  EXPECT_EQ(json::parse(*replayed), expected);
}

TEST(ReplayAsSse, IsEmptyForSomethingThatIsNotACompletion) {
  EXPECT_EQ(replay_as_sse("not json", true), "");
  EXPECT_EQ(replay_as_sse("[]", true), "");
  EXPECT_EQ(replay_as_sse(R"({"error":{}})", true), "");
}

TEST(StorableCompletion, AcceptsAPlainAnswer) {
  EXPECT_TRUE(storable_completion(kPlainCompletion));
  EXPECT_TRUE(storable_completion(
      R"({"choices":[{"index":0,"message":{"role":"assistant","content":"x","tool_calls":[]},)"
      R"("finish_reason":"length"}]})"));
}

TEST(StorableCompletion, RejectsToolCalls) {
  EXPECT_FALSE(storable_completion(
      R"({"object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant",)"
      R"("content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"f",)"
      R"("arguments":"{}"}}]},"finish_reason":"tool_calls"}]})"));
  EXPECT_FALSE(storable_completion(
      R"({"choices":[{"index":0,"message":{"role":"assistant","content":null,)"
      R"("function_call":{"name":"f","arguments":"{}"}},"finish_reason":"function_call"}]})"));
}

TEST(StorableCompletion, RejectsAnUnfinishedEmptyOrErrorBody) {
  EXPECT_FALSE(storable_completion(
      R"({"choices":[{"index":0,"message":{"role":"assistant","content":"x"}}]})"));
  EXPECT_FALSE(
      storable_completion(R"({"choices":[{"index":0,"message":{"role":"assistant","content":"x"},)"
                          R"("finish_reason":null}]})"));
  EXPECT_FALSE(storable_completion(R"({"choices":[]})"));
  EXPECT_FALSE(storable_completion(R"({"id":"x"})"));
  EXPECT_FALSE(storable_completion(
      R"({"error":{"message":"m","type":"server_error","param":null,"code":null}})"));
  EXPECT_FALSE(storable_completion(R"({"object":"chat.completion.chunk","choices":[{"index":0,)"
                                   R"("message":{"content":"x"},"finish_reason":"stop"}]})"));
  EXPECT_FALSE(storable_completion("{"));
}

}  // namespace
}  // namespace switchyard::cache
