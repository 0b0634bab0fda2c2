// The response cache key: requests that can only get the same answer share a key whatever their
// spelling, anything that might change the answer changes it, and requests whose answer is meant
// to vary (or to be acted on) are not cached at all.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/api/json.hpp"
#include "switchyard/cache/key.hpp"

namespace switchyard::cache {
namespace {

const KeyPolicy kDefaultPolicy{};

std::string key_of(std::string_view body, std::string_view scope = "") {
  const KeyDecision d = cache_key(body, scope, kDefaultPolicy);
  EXPECT_TRUE(d.cacheable()) << body << ": " << d.bypass_reason;
  return d.key;
}

std::string bypass_of(std::string_view body, const KeyPolicy& policy = kDefaultPolicy) {
  const KeyDecision d = cache_key(body, "", policy);
  EXPECT_TRUE(d.key.empty()) << body;
  return d.bypass_reason;
}

constexpr std::string_view kBase =
    R"({"model":"gpt-4o","messages":[{"role":"user","content":"Hi"}],"temperature":0})";

TEST(CacheKey, IsLowercaseHexSha256) {
  const std::string key = key_of(kBase);
  ASSERT_EQ(key.size(), 64u);
  EXPECT_EQ(key.find_first_not_of("0123456789abcdef"), std::string::npos) << key;
}

TEST(CacheKey, ReorderedKeysGiveTheSameKey) {
  EXPECT_EQ(key_of(kBase), key_of(R"({"temperature":0,"messages":[{"content":"Hi","role":"user"}],)"
                                  R"("model":"gpt-4o"})"));
}

TEST(CacheKey, WhitespaceDoesNotChangeTheKey) {
  EXPECT_EQ(key_of(kBase),
            key_of(" {\n  \"model\" : \"gpt-4o\",\t\"messages\" : [ { \"role\" : "
                   "\"user\" , \"content\" : \"Hi\" } ] , \"temperature\" : 0 }\r\n"));
}

TEST(CacheKey, NumberSpellingsOfOneValueGiveTheSameKey) {
  const std::string zero = key_of(kBase);
  for (std::string_view t : {"0.0", "-0", "-0.0", "0e5", "0E-3", "0.000"}) {
    std::string body(kBase);
    body.replace(body.find("\"temperature\":0") + 14, 1, t);
    EXPECT_EQ(key_of(body), zero) << body;
  }
  const std::string one = key_of(R"({"messages":[],"temperature":0,"seed":1})");
  for (std::string_view s : {"1.0", "1e0", "10e-1", "0.1e1", "1.000"}) {
    EXPECT_EQ(
        key_of(std::string(R"({"messages":[],"temperature":0,"seed":)") + std::string(s) + "}"),
        one)
        << s;
  }
  EXPECT_EQ(key_of(R"({"messages":[],"temperature":0,"top_p":0.5})"),
            key_of(R"({"messages":[],"temperature":0,"top_p":5e-1})"));
}

TEST(CacheKey, EscapedAndRawUnicodeGiveTheSameKey) {
  EXPECT_EQ(key_of(R"({"messages":[{"role":"user","content":"café / ok 😀"}],"temperature":0})"),
            key_of(R"({"messages":[{"role":"user","content":"caf\u00e9 \/ ok \ud83d\ude00"}],)"
                   R"("temperature":0})"));
  // Keys too: an escaped key sorts and compares as what it decodes to.
  EXPECT_EQ(key_of(R"({"messages":[],"temperature":0,"x\u0041":1})"),
            key_of(R"({"xA":1,"messages":[],"temperature":0})"));
}

TEST(CacheKey, DifferentMessagesGiveDifferentKeys) {
  EXPECT_NE(key_of(kBase),
            key_of(R"({"model":"gpt-4o","messages":[{"role":"user","content":"Hi!"}],)"
                   R"("temperature":0})"));
  EXPECT_NE(key_of(kBase),
            key_of(R"({"model":"gpt-4o","messages":[{"role":"system","content":"Hi"}],)"
                   R"("temperature":0})"));
}

TEST(CacheKey, EachFieldThatShapesTheAnswerChangesTheKey) {
  const KeyPolicy warm{1.0};
  const auto key = [&](std::string_view extra) {
    return cache_key(
               std::string(R"({"messages":[{"role":"user","content":"Hi"}],"temperature":0)") +
                   std::string(extra) + "}",
               "", warm)
        .key;
  };
  const std::string base = key("");
  ASSERT_FALSE(base.empty());
  for (std::string_view extra :
       {R"(,"seed":1)", R"(,"max_tokens":10)", R"(,"max_completion_tokens":10)", R"(,"stop":"x")",
        R"(,"n":2)", R"(,"top_p":0.5)", R"(,"response_format":{"type":"json_object"})",
        R"(,"presence_penalty":1)", R"(,"logit_bias":{"1":5})", R"(,"reasoning_effort":"low")",
        R"(,"some_future_field":true)"}) {
    EXPECT_NE(key(extra), base) << extra;
  }
  EXPECT_NE(key(R"(,"seed":1)"), key(R"(,"seed":2)"));
  EXPECT_NE(key(R"(,"max_tokens":10)"), key(R"(,"max_completion_tokens":10)"));
  EXPECT_NE(cache_key(R"({"messages":[],"temperature":0})", "", warm).key,
            cache_key(R"({"messages":[],"temperature":0.5})", "", warm).key);
}

TEST(CacheKey, IntegerLiteralsBeyondDoublePrecisionStayDistinct) {
  // Both round to the same double; as seeds they ask for different samples.
  EXPECT_NE(key_of(R"({"messages":[],"temperature":0,"seed":9007199254740993})"),
            key_of(R"({"messages":[],"temperature":0,"seed":9007199254740992})"));
}

TEST(CacheKey, ScopeChangesTheKey) {
  EXPECT_NE(key_of(kBase, "smart"), key_of(kBase, "cheap"));
  EXPECT_NE(key_of(kBase, "smart"), key_of(kBase, ""));
}

TEST(CacheKey, ModelStreamUserAndMetadataDoNotChangeTheKey) {
  const std::string key =
      key_of(R"({"messages":[{"role":"user","content":"Hi"}],"temperature":0})");
  EXPECT_EQ(key_of(R"({"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true},)"
                   R"("user":"u-1","metadata":{"team":"a"},"store":true,"service_tier":"auto",)"
                   R"("prompt_cache_key":"p","safety_identifier":"s",)"
                   R"("messages":[{"role":"user","content":"Hi"}],"temperature":0})"),
            key);
  EXPECT_EQ(
      key_of(R"({"model":"other","messages":[{"role":"user","content":"Hi"}],"temperature":0})"),
      key);
}

TEST(CacheKey, OnlyTopLevelFieldsAreDropped) {
  // A nested "model" or "user" is content, not routing.
  EXPECT_NE(key_of(R"({"messages":[{"role":"user","content":"Hi","user":"a"}],"temperature":0})"),
            key_of(R"({"messages":[{"role":"user","content":"Hi","user":"b"}],"temperature":0})"));
}

TEST(CacheKey, ToolsBypassTheCache) {
  EXPECT_EQ(bypass_of(R"({"messages":[],"temperature":0,"tools":[{"type":"function",)"
                      R"("function":{"name":"f"}}]})"),
            "tools");
  EXPECT_EQ(bypass_of(R"({"messages":[],"temperature":0,"functions":[{"name":"f"}]})"),
            "functions");
  // An empty list offers nothing to call.
  EXPECT_EQ(key_of(R"({"messages":[],"temperature":0,"tools":[]})").size(), 64u);
}

TEST(CacheKey, AbsentTemperatureBypassesTheCacheUnlessOneIsAllowed) {
  EXPECT_EQ(bypass_of(R"({"messages":[]})"), "temperature not set (defaults to 1)");
  EXPECT_EQ(bypass_of(R"({"messages":[],"temperature":null})"),
            "temperature not set (defaults to 1)");
  EXPECT_TRUE(cache_key(R"({"messages":[]})", "", KeyPolicy{1.0}).cacheable());
}

TEST(CacheKey, TemperatureAboveTheConfiguredMaximumBypassesTheCache) {
  EXPECT_EQ(bypass_of(R"({"messages":[],"temperature":0.7})"), "temperature 0.7 above 0");
  EXPECT_EQ(bypass_of(R"({"messages":[],"temperature":0.7})", KeyPolicy{0.5}),
            "temperature 0.7 above 0.5");
  EXPECT_TRUE(cache_key(R"({"messages":[],"temperature":0.5})", "", KeyPolicy{0.5}).cacheable());
  EXPECT_TRUE(cache_key(R"({"messages":[],"temperature":0.2})", "", KeyPolicy{0.5}).cacheable());
}

TEST(CacheKey, ABodyThatIsNotAnObjectBypassesTheCache) {
  EXPECT_EQ(bypass_of(R"([{"messages":[]}])"), "body not an object");
  EXPECT_EQ(bypass_of(""), "body not an object");
  EXPECT_EQ(bypass_of(R"({"messages":[],"temperature":0)"), "body not valid json");
}

// A worker remembers the decisions for the bodies it saw last, by their bytes: the same bytes
// asked again under another scope or policy get their own decision, never the remembered one.
TEST(CacheKey, ARepeatedBodyIsDecidedUnderItsOwnScopeAndPolicy) {
  constexpr std::string_view body = R"({"messages":[],"temperature":0.7})";
  EXPECT_FALSE(cache_key(body, "smart", KeyPolicy{0.5}).cacheable());
  const KeyDecision allowed = cache_key(body, "smart", KeyPolicy{1.0});
  ASSERT_TRUE(allowed.cacheable()) << allowed.bypass_reason;
  EXPECT_EQ(cache_key(body, "smart", KeyPolicy{0.5}).bypass_reason, "temperature 0.7 above 0.5");
  const KeyDecision other_scope = cache_key(body, "cheap", KeyPolicy{1.0});
  EXPECT_NE(other_scope.key, allowed.key);
  EXPECT_EQ(cache_key(body, "smart", KeyPolicy{1.0}).key, allowed.key);

  // Many other bodies in between (more than a worker remembers) change nothing.
  const std::string first = key_of(kBase);
  std::vector<std::string> others;
  for (int i = 0; i < 100; ++i) {
    const std::string other = R"({"messages":[],"temperature":0,"seed":)" + std::to_string(i) + "}";
    others.push_back(key_of(other));
    EXPECT_NE(others.back(), first);
  }
  EXPECT_EQ(key_of(kBase), first);
  EXPECT_EQ(key_of(R"({"messages":[],"temperature":0,"seed":7})"), others[7]);
}

TEST(CanonicalJson, SortsKeysDropsWhitespaceAndRespellsStringsAndNumbers) {
  EXPECT_EQ(canonical_json(R"( { "b" : [ 1.50 , -0.0, 1e21, 2.5e-8 ] , "a" : "\u00e9\/\b\"" } )"),
            "{\"a\":\"\xC3\xA9/\\u0008\\\"\",\"b\":[1.5,0,1e+21,2.5e-08]}");
  EXPECT_EQ(canonical_json(R"({"z":{"y":1,"x":{"b":true,"a":null}},"a":[]})"),
            R"({"a":[],"z":{"x":{"a":null,"b":true},"y":1}})");
  EXPECT_EQ(canonical_json("1e400"), "1e400");  // beyond a double: kept as written
  EXPECT_FALSE(canonical_json("{\"a\":}"));
  EXPECT_FALSE(canonical_json("[1] x"));
}

TEST(CanonicalJson, WritesAnEscapedStringAsAppendQuotedWritesItsDecodedText) {
  // The canonicalizer decodes escapes itself (no intermediate string); it must agree with the
  // api::json pair exactly, or a raw and an escaped spelling would get different keys.
  std::vector<std::string> spellings = {R"(\")",
                                        R"(\\)",
                                        R"(\/)",
                                        R"(\b)",
                                        R"(\f)",
                                        R"(\n)",
                                        R"(\r)",
                                        R"(\t)",
                                        R"(\ud83d\ude00)",
                                        R"(\ud83d)",
                                        R"(\ude00)",
                                        R"(\ud83dx)",
                                        R"(\ud83d\u0041)",
                                        R"(a\u00e9b\u20AC\uFFFFc)",
                                        R"(\ud83d\ude00\ud83d)"};
  for (unsigned cp = 0; cp < 0x800; ++cp) {
    char escape[8];
    std::snprintf(escape, sizeof escape, "\\u%04x", cp);
    spellings.emplace_back(escape);
  }
  for (const std::string& contents : spellings) {
    std::string expected;
    api::json::append_quoted(expected, api::json::unescape(contents));
    EXPECT_EQ(canonical_json("\"" + contents + "\""), expected) << contents;
  }
}

}  // namespace
}  // namespace switchyard::cache
