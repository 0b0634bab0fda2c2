// OpenAI answers said as Anthropic Messages answers: a chat.completion as a `message`, and a
// chunk stream as Anthropic's event sequence — which, put together the way Anthropic's SDKs do,
// must give the very message the whole completion gives.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "switchyard/api/messages_output.hpp"

namespace switchyard::api {
namespace {

using nlohmann::json;

// --- fixtures -------------------------------------------------------------------------------

json completion(const json& message, const json& finish_reason, const json& usage = nullptr) {
  json c = {{"id", "chatcmpl-abc"},
            {"object", "chat.completion"},
            {"created", 1},
            {"model", "gpt-x"},
            {"choices",
             {{{"index", 0},
               {"message", message},
               {"finish_reason", finish_reason},
               {"logprobs", nullptr}}}}};
  if (!usage.is_null()) c["usage"] = usage;
  return c;
}

json chunk(const json& delta, const json& finish_reason = nullptr) {
  return {{"id", "chatcmpl-abc"},
          {"object", "chat.completion.chunk"},
          {"created", 1},
          {"model", "gpt-x"},
          {"choices", {{{"index", 0}, {"delta", delta}, {"finish_reason", finish_reason}}}}};
}

json usage_chunk(const json& usage) {
  return {{"id", "chatcmpl-abc"}, {"object", "chat.completion.chunk"}, {"created", 1},
          {"model", "gpt-x"},     {"choices", json::array()},          {"usage", usage}};
}

json tool_delta(int index, const json& function, const json& id = nullptr) {
  json call = {{"index", index}, {"function", function}};
  if (!id.is_null()) {
    call["id"] = id;
    call["type"] = "function";
  }
  return {{"tool_calls", {call}}};
}

std::string data(const json& chunk) {
  return "data: " + chunk.dump() + "\n\n";
}

const std::string kDone = "data: [DONE]\n\n";

// The events a stream turns into, fed one OpenAI event per call as the relay does.
std::string translate(const std::vector<json>& chunks, bool with_done = true) {
  MessageEvents events;
  std::string out;
  for (const json& c : chunks) EXPECT_TRUE(events.feed(data(c), out)) << events.error();
  if (with_done) {
    EXPECT_TRUE(events.feed(kDone, out)) << events.error();
    EXPECT_TRUE(events.done());
  }
  return out;
}

// Anthropic's SSE text as its events' data, checking that each `event:` names its data's type.
std::vector<json> parse_events(const std::string& sse) {
  std::vector<json> events;
  std::size_t at = 0;
  while (at < sse.size()) {
    const std::size_t end = sse.find("\n\n", at);
    EXPECT_NE(end, std::string::npos) << "an unterminated event in " << sse;
    if (end == std::string::npos) break;
    const std::string event = sse.substr(at, end - at);
    at = end + 2;
    const std::size_t newline = event.find('\n');
    EXPECT_EQ(event.rfind("event: ", 0), 0u) << event;
    EXPECT_EQ(event.compare(newline + 1, 6, "data: "), 0) << event;
    const std::string name = event.substr(7, newline - 7);
    events.push_back(json::parse(event.substr(newline + 7)));
    EXPECT_EQ(events.back().at("type"), name) << event;
  }
  return events;
}

std::vector<std::string> types_of(const std::vector<json>& events) {
  std::vector<std::string> types;
  for (const json& e : events) types.push_back(e.at("type"));
  return types;
}

// What Anthropic's SDKs make of an event stream: message_start's message, blocks filled by
// their deltas (a tool's partial_json parsed once whole), message_delta's stop reason and usage.
json assemble(const std::vector<json>& events) {
  json message;
  std::vector<std::string> partial_json;
  for (const json& e : events) {
    const std::string type = e.at("type");
    if (type == "message_start") {
      message = e.at("message");
    } else if (type == "content_block_start") {
      EXPECT_EQ(e.at("index"), message.at("content").size()) << "blocks are numbered in order";
      message["content"].push_back(e.at("content_block"));
      partial_json.emplace_back();
    } else if (type == "content_block_delta") {
      const std::size_t index = e.at("index");
      json& block = message["content"].at(index);
      const json& delta = e.at("delta");
      if (delta.at("type") == "text_delta") {
        block["text"] = block.at("text").get<std::string>() + delta.at("text").get<std::string>();
      } else if (delta.at("type") == "thinking_delta") {
        block["thinking"] =
            block.at("thinking").get<std::string>() + delta.at("thinking").get<std::string>();
      } else if (delta.at("type") == "input_json_delta") {
        partial_json.at(index) += delta.at("partial_json").get<std::string>();
      }
    } else if (type == "content_block_stop") {
      const std::size_t index = e.at("index");
      if (!partial_json.at(index).empty())
        message["content"].at(index)["input"] = json::parse(partial_json.at(index));
    } else if (type == "message_delta") {
      message["stop_reason"] = e.at("delta").at("stop_reason");
      message["stop_sequence"] = e.at("delta").at("stop_sequence");
      for (const auto& [key, value] : e.at("usage").items()) message["usage"][key] = value;
    }
  }
  return message;
}

json message_of(const json& c) {
  const auto message = completion_to_message(c.dump());
  EXPECT_TRUE(message) << (message ? "" : message.error());
  return message ? json::parse(*message) : json();
}

// --- completion_to_message ------------------------------------------------------------------

TEST(CompletionToMessage, TextAnswerBecomesATextBlockThatEndsTheTurn) {
  const json usage = {{"prompt_tokens", 12}, {"completion_tokens", 5}, {"total_tokens", 17}};
  const json message = message_of(
      completion({{"role", "assistant"}, {"content", "Hello \"you\"\n"}}, "stop", usage));
  EXPECT_EQ(message, json::parse(R"({
    "id": "msg_abc", "type": "message", "role": "assistant", "model": "gpt-x",
    "content": [{"type": "text", "text": "Hello \"you\"\n"}],
    "stop_reason": "end_turn", "stop_sequence": null,
    "usage": {"input_tokens": 12, "cache_creation_input_tokens": 0,
              "cache_read_input_tokens": 0, "output_tokens": 5}})"));
}

TEST(CompletionToMessage, ReasoningComesFirstAsAThinkingBlockWithAnEmptySignature) {
  const json message = message_of(completion(
      {{"role", "assistant"}, {"content", "42"}, {"reasoning_content", "think"}}, "stop"));
  EXPECT_EQ(message.at("content"), json::parse(R"([
    {"type": "thinking", "thinking": "think", "signature": ""},
    {"type": "text", "text": "42"}])"));

  const json other_spelling = message_of(
      completion({{"role", "assistant"}, {"content", "42"}, {"reasoning", "hmm"}}, "stop"));
  EXPECT_EQ(other_spelling.at("content").at(0).at("thinking"), "hmm");
}

TEST(CompletionToMessage, ToolCallsBecomeToolUseBlocksWithTheirArgumentsAsInput) {
  const json message = message_of(completion(
      {{"role", "assistant"},
       {"content", nullptr},
       {"tool_calls",
        {{{"id", "call_1"},
          {"type", "function"},
          {"function", {{"name", "get_w"}, {"arguments", R"({"city": "Oslo", "n": [1, 2]})"}}}},
         {{"id", "call_2"},
          {"type", "function"},
          {"function", {{"name", "now"}, {"arguments", ""}}}},
         {{"id", "call_3"}, {"type", "function"}, {"function", {{"name", "bare"}}}}}}},
      "tool_calls"));
  EXPECT_EQ(message.at("content"), json::parse(R"([
    {"type": "tool_use", "id": "call_1", "name": "get_w", "input": {"city": "Oslo", "n": [1, 2]}},
    {"type": "tool_use", "id": "call_2", "name": "now", "input": {}},
    {"type": "tool_use", "id": "call_3", "name": "bare", "input": {}}])"));
  EXPECT_EQ(message.at("stop_reason"), "tool_use");
}

TEST(CompletionToMessage, ToolCallsMakeTheStopReasonToolUseWhateverTheFinishSaid) {
  const json message = message_of(completion(
      {{"role", "assistant"},
       {"content", "Let me look."},
       {"tool_calls",
        {{{"id", "c"}, {"type", "function"}, {"function", {{"name", "f"}, {"arguments", "{}"}}}}}}},
      "stop"));
  EXPECT_EQ(message.at("stop_reason"), "tool_use");
  EXPECT_EQ(message.at("content").at(0), (json{{"type", "text"}, {"text", "Let me look."}}));
}

TEST(CompletionToMessage, ArgumentsThatAreNotAJsonObjectAreAnError) {
  for (const char* arguments : {"[1,2]", "{\"a\":", "42", "not json"}) {
    const auto message = completion_to_message(
        completion({{"role", "assistant"},
                    {"tool_calls",
                     {{{"id", "c"},
                       {"type", "function"},
                       {"function", {{"name", "lookup"}, {"arguments", arguments}}}}}}},
                   "tool_calls")
            .dump());
    ASSERT_FALSE(message) << arguments;
    EXPECT_EQ(message.error(), "the tool call 'lookup' has arguments that are not a JSON object");
  }
}

TEST(CompletionToMessage, MapsEveryFinishReason) {
  const std::vector<std::pair<json, std::string>> cases = {
      {"stop", "end_turn"},          {"length", "max_tokens"},      {"tool_calls", "tool_use"},
      {"function_call", "tool_use"}, {"content_filter", "refusal"}, {nullptr, "end_turn"},
      {"something_new", "end_turn"}};
  for (const auto& [finish, stop] : cases) {
    EXPECT_EQ(
        message_of(completion({{"role", "assistant"}, {"content", "x"}}, finish)).at("stop_reason"),
        stop)
        << finish;
  }
  json no_finish = completion({{"role", "assistant"}, {"content", "x"}}, nullptr);
  no_finish["choices"][0].erase("finish_reason");
  EXPECT_EQ(message_of(no_finish).at("stop_reason"), "end_turn");
}

TEST(CompletionToMessage, CachedTokensAreTakenOutOfTheInputTokens) {
  const json usage = {{"prompt_tokens", 100},
                      {"completion_tokens", 7},
                      {"total_tokens", 107},
                      {"prompt_tokens_details", {{"cached_tokens", 80}}}};
  EXPECT_EQ(
      message_of(completion({{"role", "assistant"}, {"content", "x"}}, "stop", usage)).at("usage"),
      json::parse(R"({"input_tokens": 20, "cache_creation_input_tokens": 0,
                            "cache_read_input_tokens": 80, "output_tokens": 7})"));
}

TEST(CompletionToMessage, MissingUsageCountsZero) {
  EXPECT_EQ(message_of(completion({{"role", "assistant"}, {"content", "x"}}, "stop")).at("usage"),
            json::parse(R"({"input_tokens": 0, "cache_creation_input_tokens": 0,
                            "cache_read_input_tokens": 0, "output_tokens": 0})"));
}

TEST(CompletionToMessage, ContentPartsAreJoinedAndARefusalIsText) {
  const json parts = message_of(completion(
      {{"role", "assistant"},
       {"content", {{{"type", "text"}, {"text", "one, "}}, {{"type", "text"}, {"text", "two"}}}}},
      "stop"));
  EXPECT_EQ(parts.at("content"), json::parse(R"([{"type": "text", "text": "one, two"}])"));

  const json refusal = message_of(completion(
      {{"role", "assistant"}, {"content", nullptr}, {"refusal", "I can't help with that."}},
      "content_filter"));
  EXPECT_EQ(refusal.at("content"),
            json::parse(R"([{"type": "text", "text": "I can't help with that."}])"));
  EXPECT_EQ(refusal.at("stop_reason"), "refusal");
}

TEST(CompletionToMessage, EmptyContentMakesNoBlock) {
  EXPECT_EQ(message_of(completion({{"role", "assistant"}, {"content", ""}}, "stop")).at("content"),
            json::array());
}

TEST(CompletionToMessage, AnEmptyToolCallListIsNoToolUse) {
  const json message = message_of(completion(
      {{"role", "assistant"}, {"content", "done"}, {"tool_calls", json::array()}}, "stop"));
  EXPECT_EQ(message.at("stop_reason"), "end_turn");
  EXPECT_EQ(message.at("content").size(), 1u);
}

TEST(CompletionToMessage, RefusesWhatIsNotACompletion) {
  EXPECT_EQ(completion_to_message("[1]").error(), "the completion is not a JSON object");
  EXPECT_EQ(completion_to_message("{\"id\":").error(), "the completion is not a JSON object");
  EXPECT_EQ(completion_to_message(R"({"id":"chatcmpl-1","choices":[]})").error(),
            "the completion has no choices");
  EXPECT_EQ(completion_to_message(R"({"id":"chatcmpl-1"})").error(),
            "the completion has no choices");
}

// --- MessageEvents --------------------------------------------------------------------------

TEST(MessageEvents, TheFirstChunkStartsTheMessage) {
  MessageEvents events;
  std::string out;
  ASSERT_TRUE(events.feed(data(chunk({{"role", "assistant"}, {"content", ""}})), out));
  EXPECT_EQ(out,
            "event: message_start\n"
            R"(data: {"type":"message_start","message":{"id":"msg_abc","type":"message",)"
            R"("role":"assistant","model":"gpt-x","content":[],"stop_reason":null,)"
            R"("stop_sequence":null,"usage":{"input_tokens":0,"output_tokens":0}}})"
            "\n\n");
  EXPECT_FALSE(events.done());
}

TEST(MessageEvents, TextStreamsAsItComesInOneBlock) {
  const std::string out =
      translate({chunk({{"role", "assistant"}, {"content", ""}}), chunk({{"content", "Hel"}}),
                 chunk({{"content", "lo"}}), chunk(json::object(), "stop")});
  const std::vector<json> events = parse_events(out);
  EXPECT_EQ(types_of(events),
            (std::vector<std::string>{"message_start", "content_block_start", "content_block_delta",
                                      "content_block_delta", "content_block_stop", "message_delta",
                                      "message_stop"}));
  EXPECT_EQ(events[1], json::parse(R"({"type":"content_block_start","index":0,
                                       "content_block":{"type":"text","text":""}})"));
  EXPECT_EQ(events[2], json::parse(R"({"type":"content_block_delta","index":0,
                                       "delta":{"type":"text_delta","text":"Hel"}})"));
  EXPECT_EQ(events[4], json::parse(R"({"type":"content_block_stop","index":0})"));
  EXPECT_EQ(events[5], json::parse(R"({"type":"message_delta",
      "delta":{"stop_reason":"end_turn","stop_sequence":null},
      "usage":{"input_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,
               "output_tokens":0}})"));
  EXPECT_EQ(events[6], json::parse(R"({"type":"message_stop"})"));
}

TEST(MessageEvents, TextAssemblesToTheCompletionsMessage) {
  const std::string text = "Say \"hi\"\n\tto \u00e9\u4e16\U0001F600 and \\ back";
  const std::string out = translate(
      {chunk({{"role", "assistant"}, {"content", ""}}), chunk({{"content", text.substr(0, 9)}}),
       chunk({{"content", text.substr(9)}}), chunk(json::object(), "length")});
  EXPECT_EQ(assemble(parse_events(out)),
            message_of(completion({{"role", "assistant"}, {"content", text}}, "length")));
}

TEST(MessageEvents, ToolCallsAreHeldUntilTheFinish) {
  MessageEvents events;
  std::string out;
  ASSERT_TRUE(events.feed(data(chunk({{"content", "Checking."}})), out));
  ASSERT_TRUE(events.feed(
      data(chunk(tool_delta(0, {{"name", "get_w"}, {"arguments", ""}}, "call_1"))), out));
  ASSERT_TRUE(events.feed(data(chunk(tool_delta(0, {{"arguments", "{\"city\":"}}))), out));
  ASSERT_TRUE(events.feed(data(chunk(json::object(), "tool_calls")), out));
  EXPECT_EQ(out.find("tool_use"), std::string::npos) << out;
  EXPECT_EQ(out.find("content_block_stop"), std::string::npos) << out;

  ASSERT_TRUE(events.feed(kDone, out));
  const std::vector<json> all = parse_events(out);
  EXPECT_EQ(types_of(all), (std::vector<std::string>{
                               "message_start", "content_block_start", "content_block_delta",
                               "content_block_stop", "content_block_start", "content_block_delta",
                               "content_block_stop", "message_delta", "message_stop"}));
  EXPECT_EQ(all[4], json::parse(R"({"type":"content_block_start","index":1,
      "content_block":{"type":"tool_use","id":"call_1","name":"get_w","input":{}}})"));
  EXPECT_EQ(all[5], json::parse(R"({"type":"content_block_delta","index":1,
      "delta":{"type":"input_json_delta","partial_json":"{\"city\":"}})"));
}

TEST(MessageEvents, InterleavedParallelToolCallsAssembleToTheCompletionsMessage) {
  const std::string out = translate({
      chunk({{"role", "assistant"}, {"content", ""}}),
      chunk({{"content", "Two lookups."}}),
      chunk(tool_delta(0, {{"name", "get_w"}, {"arguments", ""}}, "call_a")),
      chunk(tool_delta(0, {{"arguments", "{\"city\":"}})),
      chunk(tool_delta(1, {{"name", "get_time"}, {"arguments", "{\"tz\":"}}, "call_b")),
      chunk(tool_delta(0, {{"arguments", "\"Oslo\"}"}})),
      chunk(tool_delta(1, {{"arguments", "\"CET\"}"}})),
      chunk(json::object(), "tool_calls"),
  });
  const json expected = message_of(
      completion({{"role", "assistant"},
                  {"content", "Two lookups."},
                  {"tool_calls",
                   {{{"id", "call_a"},
                     {"type", "function"},
                     {"function", {{"name", "get_w"}, {"arguments", "{\"city\":\"Oslo\"}"}}}},
                    {{"id", "call_b"},
                     {"type", "function"},
                     {"function", {{"name", "get_time"}, {"arguments", "{\"tz\":\"CET\"}"}}}}}}},
                 "tool_calls"));
  EXPECT_EQ(assemble(parse_events(out)), expected);
  EXPECT_EQ(expected.at("content").size(), 3u);
}

TEST(MessageEvents, ToolCallsWithoutArgumentsGetNoDelta) {
  const std::string out =
      translate({chunk(tool_delta(0, {{"name", "now"}, {"arguments", ""}}, "call_1")),
                 chunk(json::object(), "tool_calls")});
  EXPECT_EQ(out.find("input_json_delta"), std::string::npos) << out;
  EXPECT_EQ(assemble(parse_events(out)),
            message_of(completion({{"role", "assistant"},
                                   {"content", nullptr},
                                   {"tool_calls",
                                    {{{"id", "call_1"},
                                      {"type", "function"},
                                      {"function", {{"name", "now"}, {"arguments", ""}}}}}}},
                                  "tool_calls")));
}

TEST(MessageEvents, ToolCallsMakeTheStopReasonToolUseWhateverTheFinishSaid) {
  const std::vector<json> events = parse_events(translate(
      {chunk(tool_delta(0, {{"name", "f"}, {"arguments", "{}"}}, "c")), chunk({}, "stop")}));
  EXPECT_EQ(events.at(events.size() - 2).at("delta").at("stop_reason"), "tool_use");
}

TEST(MessageEvents, ReasoningThenTextAreTwoBlocksThatAssembleToTheCompletionsMessage) {
  const std::string out = translate({
      chunk({{"role", "assistant"}, {"content", ""}}),
      chunk({{"reasoning_content", "First, "}}),
      chunk({{"reasoning_content", "think."}}),
      chunk({{"content", "Answer"}}),
      chunk({{"content", "."}}),
      chunk(json::object(), "stop"),
  });
  const std::vector<json> events = parse_events(out);
  EXPECT_EQ(events[1], json::parse(R"({"type":"content_block_start","index":0,
      "content_block":{"type":"thinking","thinking":"","signature":""}})"));
  EXPECT_EQ(events[2], json::parse(R"({"type":"content_block_delta","index":0,
      "delta":{"type":"thinking_delta","thinking":"First, "}})"));
  EXPECT_EQ(events[4], json::parse(R"({"type":"content_block_stop","index":0})"));
  EXPECT_EQ(events[5].at("index"), 1);
  EXPECT_EQ(
      assemble(events),
      message_of(completion(
          {{"role", "assistant"}, {"content", "Answer."}, {"reasoning_content", "First, think."}},
          "stop")));
}

TEST(MessageEvents, ReasoningUnderItsOtherNameIsThinkingToo) {
  const std::vector<json> events =
      parse_events(translate({chunk({{"reasoning", "hmm"}}), chunk({}, "stop")}));
  EXPECT_EQ(events.at(2).at("delta"), json::parse(R"({"type":"thinking_delta","thinking":"hmm"})"));
}

TEST(MessageEvents, AUsageChunkAfterTheFinishGivesTheCountsWithCachedTokensApart) {
  const json usage = {{"prompt_tokens", 100},
                      {"completion_tokens", 9},
                      {"total_tokens", 109},
                      {"prompt_tokens_details", {{"cached_tokens", 64}}}};
  const std::string out =
      translate({chunk({{"role", "assistant"}, {"content", ""}}), chunk({{"content", "ok"}}),
                 chunk(json::object(), "stop"), usage_chunk(usage)});
  const std::vector<json> events = parse_events(out);
  EXPECT_EQ(events.at(events.size() - 2).at("usage"),
            json::parse(R"({"input_tokens":36,"cache_creation_input_tokens":0,
                            "cache_read_input_tokens":64,"output_tokens":9})"));
  EXPECT_EQ(assemble(events),
            message_of(completion({{"role", "assistant"}, {"content", "ok"}}, "stop", usage)));
}

TEST(MessageEvents, CommentsBecomePingsOnceTheMessageHasStarted) {
  MessageEvents events;
  std::string out;
  ASSERT_TRUE(events.feed(": keep-alive\n\n", out));
  EXPECT_EQ(out, "");
  ASSERT_TRUE(events.feed(data(chunk({{"content", "a"}})), out));
  const std::size_t before = out.size();
  ASSERT_TRUE(events.feed(": ping\n: another line\n\n", out));
  EXPECT_EQ(out.substr(before), "event: ping\ndata: {\"type\":\"ping\"}\n\n");
}

TEST(MessageEvents, DoneWithoutAFinishEndsTheTurn) {
  const std::vector<json> events = parse_events(translate({chunk({{"content", "cut"}})}));
  EXPECT_EQ(events.at(events.size() - 2).at("delta").at("stop_reason"), "end_turn");
  EXPECT_EQ(events.back().at("type"), "message_stop");
}

TEST(MessageEvents, AnErrorChunkStopsTheStreamWithItsMessage) {
  MessageEvents events;
  std::string out;
  ASSERT_TRUE(events.feed(data(chunk({{"content", "par"}})), out));
  const std::size_t before = out.size();
  EXPECT_FALSE(
      events.feed(R"(data: {"error":{"message":"upstream overloaded","type":"server_error"}})"
                  "\n\n",
                  out));
  EXPECT_EQ(events.error(), "upstream overloaded");
  EXPECT_FALSE(events.feed(data(chunk({{"content", "more"}})) + kDone, out));
  EXPECT_EQ(out.size(), before);
  EXPECT_FALSE(events.done());
}

TEST(MessageEvents, AChunkThatIsNotAJsonObjectIsAnError) {
  for (const std::string bad : {"data: [1,2]\n\n", "data: {\"id\":\n\n", "data: hello\n\n"}) {
    MessageEvents events;
    std::string out;
    EXPECT_FALSE(events.feed(bad, out)) << bad;
    EXPECT_EQ(events.error(), "a stream chunk that is not a JSON object");
    EXPECT_EQ(out, "");
  }
}

TEST(MessageEvents, DoneBeforeAnyChunkIsAnError) {
  MessageEvents events;
  std::string out;
  EXPECT_FALSE(events.feed(kDone, out));
  EXPECT_EQ(events.error(), "the stream ended before its first chunk");
  EXPECT_EQ(out, "");
}

TEST(MessageEvents, SeveralEventsInOneFeedCallGiveWhatTheyGiveOneByOne) {
  const std::vector<json> chunks = {
      chunk({{"role", "assistant"}, {"content", ""}}),
      chunk({{"content", "Hi"}}),
      chunk(tool_delta(0, {{"name", "f"}, {"arguments", "{\"a\":1}"}}, "c")),
      chunk(json::object(), "tool_calls"),
  };
  std::string all = ": ping\n\n";
  for (const json& c : chunks) all += data(c) + ": ping\n\n";
  all += kDone;

  MessageEvents events;
  std::string out;
  ASSERT_TRUE(events.feed(all, out)) << events.error();
  EXPECT_TRUE(events.done());

  MessageEvents one_by_one;
  std::string expected;
  for (const json& c : chunks) {
    ASSERT_TRUE(one_by_one.feed(data(c), expected));
    ASSERT_TRUE(one_by_one.feed(": ping\n\n", expected));
  }
  ASSERT_TRUE(one_by_one.feed(kDone, expected));
  EXPECT_EQ(out, expected);
}

TEST(MessageEvents, NothingIsWrittenAfterTheMessageStops) {
  MessageEvents events;
  std::string out;
  ASSERT_TRUE(events.feed(data(chunk({{"content", "a"}})) + kDone, out));
  const std::size_t before = out.size();
  EXPECT_TRUE(events.feed(data(chunk({{"content", "late"}})) + ": ping\n\n" + kDone, out));
  EXPECT_EQ(out.size(), before);
  EXPECT_TRUE(events.done());
}

TEST(MessageEvents, AnEventsDataLinesAreJoined) {
  MessageEvents events;
  std::string out;
  ASSERT_TRUE(
      events.feed("data: {\"id\":\"chatcmpl-x\",\"model\":\"m\",\n"
                  "data: \"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\n\n",
                  out))
      << events.error();
  EXPECT_EQ(parse_events(out).at(2).at("delta").at("text"), "hi");
}

}  // namespace
}  // namespace switchyard::api
