// The complexity heuristic on a table of requests: what makes one simple or complex, and the
// reason each verdict gives.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "switchyard/routing/complexity.hpp"

namespace switchyard::routing {
namespace {

using json = nlohmann::json;

json chat(const std::string& user_text) {
  return {{"model", "auto"},
          {"messages",
           {{{"role", "system"}, {"content", "Be brief."}},
            {{"role", "user"}, {"content", user_text}}}}};
}

std::string words(int n) {
  std::string text;
  for (int i = 0; i < n; ++i) text += "Please describe the weather today. ";
  return text;
}

config::Complexity all_signals() {
  config::Complexity c;
  c.simple = "cheap";
  c.complex = "smart";
  c.max_simple_tokens = 500;
  c.signals.json_schema = true;
  c.signals.images = true;
  c.signals.max_turns = 6;
  c.signals.patterns = {"step by step", "\\bprove\\b"};
  return c;
}

struct Case {
  const char* name;
  json body;
  bool complex;
  const char* reason;  // part of the verdict's reason
};

TEST(Complexity, DecidesATableOfRequests) {
  const config::Complexity config = all_signals();
  const ComplexityPolicy policy(config);

  json with_tools = chat("What's the weather?");
  with_tools["tools"] = json::array({{{"type", "function"}, {"function", {{"name", "w"}}}}});
  json empty_tools = chat("What's the weather?");
  empty_tools["tools"] = json::array();
  json schema = chat("List three fruits.");
  schema["response_format"] = {{"type", "json_schema"}, {"json_schema", {{"name", "f"}}}};
  json json_object = chat("List three fruits.");
  json_object["response_format"] = {{"type", "json_object"}};
  json image = chat("x");
  image["messages"][1]["content"] = json::array(
      {{{"type", "text"}, {"text", "What is this?"}},
       {{"type", "image_url"}, {"image_url", {{"url", "https://example.invalid/a.png"}}}}});
  json many_turns = chat("and?");
  for (int i = 0; i < 6; ++i)
    many_turns["messages"].push_back({{"role", i % 2 ? "user" : "assistant"}, {"content", "ok"}});

  const std::vector<Case> cases{
      {"short question", chat("What are your opening hours?"), false,
       "18 estimated prompt tokens < 500"},
      {"long prompt", chat(words(80)), true, ">= 500"},
      {"just under the threshold", chat(words(60)), false, "< 500"},
      {"tools", with_tools, true, "tools"},
      {"an empty tools array is no tools", empty_tools, false, "< 500"},
      {"json schema", schema, true, "response_format json_schema"},
      {"json_object is not a schema", json_object, false, "< 500"},
      {"image", image, true, "images"},
      {"many turns", many_turns, true, "8 messages > 6"},
      {"pattern, any case", chat("Prove that the sum is even."), true, "pattern \"\\bprove\\b\""},
      {"pattern across words", chat("Think it through Step By Step."), true,
       "pattern \"step by step\""},
      {"a word containing a pattern's word", chat("An improved plan?"), false, "< 500"},
  };
  for (const Case& c : cases) {
    const Verdict v = policy.heuristic(policy.read(c.body.dump()));
    EXPECT_EQ(v.complex, c.complex) << c.name << ": " << v.reason;
    EXPECT_NE(v.reason.find(c.reason), std::string::npos) << c.name << ": " << v.reason;
  }
}

TEST(Complexity, SignalsTheConfigLeavesOffDoNotCount) {
  config::Complexity config;
  config.signals.tools = false;
  const ComplexityPolicy policy(config);
  json body = chat("hi");
  body["tools"] = json::array({{{"type", "function"}, {"function", {{"name", "w"}}}}});
  body["response_format"] = {{"type", "json_schema"}};
  EXPECT_FALSE(policy.heuristic(policy.read(body.dump())).complex);
}

TEST(Complexity, TheEstimateCountsMessageFramingToolArgumentsAndEscapedText) {
  json body = chat("hi");
  body["messages"].push_back({{"role", "assistant"},
                              {"content", nullptr},
                              {"tool_calls",
                               {{{"id", "c1"},
                                 {"type", "function"},
                                 {"function", {{"name", "lookup"}, {"arguments", words(20)}}}}}}});
  const Signals with_call = read_signals(body.dump());
  const Signals plain = read_signals(chat("hi").dump());
  EXPECT_EQ(plain.messages, 2u);
  // 2 messages × 3 framing tokens + 3 for the reply + a few for the text.
  EXPECT_GE(plain.prompt_tokens, 11u);
  EXPECT_LE(plain.prompt_tokens, 16u);
  EXPECT_GT(with_call.prompt_tokens, plain.prompt_tokens + 100);
  // Escaped text counts as what it stands for.
  EXPECT_EQ(read_signals(chat("caf\u00e9\n").dump()).prompt_tokens,
            read_signals(R"({"model":"a","messages":[{"role":"system","content":"Be brief."},)"
                         R"({"role":"user","content":"caf\u00e9\n"}]})")
                .prompt_tokens);
}

TEST(Complexity, ReadsTheOutputCap) {
  json body = chat("hi");
  body["max_tokens"] = 300;
  EXPECT_EQ(read_signals(body.dump()).max_output_tokens, 300u);
  body.erase("max_tokens");
  body["max_completion_tokens"] = 120;
  EXPECT_EQ(read_signals(body.dump()).max_output_tokens, 120u);
}

TEST(Complexity, AClassifierScoreDecidesAgainstTheThreshold) {
  config::Complexity config;
  config.classifier.model = "judge";
  config.classifier.threshold = 0.6;
  const ComplexityPolicy policy(config);
  const Signals s = policy.read(chat("Is P equal to NP?").dump());
  EXPECT_TRUE(policy.with_score(s, 0.6).complex);
  EXPECT_EQ(policy.with_score(s, 0.6).reason, "classifier score 0.60 >= 0.60");
  EXPECT_FALSE(policy.with_score(s, 0.2).complex);
  const Verdict fallback = policy.without_classifier(s, "timed out");
  EXPECT_FALSE(fallback.complex);
  EXPECT_EQ(fallback.reason.rfind("classifier timed out; ", 0), 0u) << fallback.reason;
}

TEST(Complexity, TheClassifierSeesTheLastUserMessageCutAtACharacter) {
  json body = chat("first question");
  body["messages"].push_back({{"role", "assistant"}, {"content", "an answer"}});
  const json parts =
      json::array({{{"type", "text"}, {"text", "part one"}}, {{"type", "text"}, {"text", "two"}}});
  body["messages"].push_back({{"role", "user"}, {"content", parts}});
  EXPECT_EQ(ComplexityPolicy::last_user_text(body.dump(), 1000), "part one\ntwo");
  // "é" is two bytes: a cut inside it backs off to before it.
  EXPECT_EQ(ComplexityPolicy::last_user_text(chat("caf\u00e9").dump(), 4), "caf");
}

}  // namespace
}  // namespace switchyard::routing
