// OTLP/JSON encoding of spans, read back with a real JSON parser: hex ids (OTLP/JSON's exception
// to the protobuf mapping's base64), 64-bit numbers as strings, enums as numbers, attributes in
// AnyValue form, status, and the resource and scope around the spans.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>

#include "switchyard/telemetry/span.hpp"

namespace switchyard::telemetry {
namespace {

using nlohmann::json;

template <std::size_t N>
std::array<std::uint8_t, N> counting_bytes(std::uint8_t first) {
  std::array<std::uint8_t, N> bytes;
  for (std::size_t i = 0; i < N; ++i) bytes[i] = static_cast<std::uint8_t>(first + i);
  return bytes;
}

// A client span with fixed ids and times; `attributes` adds them, `name` and `parent` override.
struct Fixture {
  std::string name = "chat gpt-4o";
  SpanId parent{counting_bytes<8>(0xf0)};
  SpanKind kind = SpanKind::client;
  bool error = false;
  std::string message;
};

template <class Attributes>
json encode(const Fixture& f, Attributes attributes) {
  std::string out;
  SpanWriter writer(out, TraceId{counting_bytes<16>(0xa0)}, SpanId{counting_bytes<8>(0x01)},
                    f.parent, {f.name}, f.kind, 1'700'000'000'123'456'789,
                    1'700'000'001'987'654'321);
  attributes(writer);
  writer.end(f.error, f.message);
  return json::parse(out);
}
json encode(const Fixture& f = {}) {
  return encode(f, [](SpanWriter&) {});
}

TEST(OtlpSpan, WritesIdsAsLowercaseHexAndTimesAsDecimalStrings) {
  const json j = encode();
  EXPECT_EQ(j["traceId"], "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
  EXPECT_EQ(j["spanId"], "0102030405060708");
  EXPECT_EQ(j["parentSpanId"], "f0f1f2f3f4f5f6f7");
  EXPECT_EQ(j["name"], "chat gpt-4o");
  EXPECT_EQ(j["kind"], 3);
  // Past 2^53: a JSON number would lose the last digits in JavaScript-based collectors.
  EXPECT_EQ(j["startTimeUnixNano"], "1700000000123456789");
  EXPECT_EQ(j["endTimeUnixNano"], "1700000001987654321");
  EXPECT_EQ(j["attributes"], json::array());
}

TEST(OtlpSpan, LeavesOutTheParentOfARootSpan) {
  const json j = encode({.parent = SpanId{}, .kind = SpanKind::server});
  EXPECT_FALSE(j.contains("parentSpanId"));
  EXPECT_EQ(j["kind"], 2);
}

TEST(OtlpSpan, JoinsTheNamesPartsWithSpaces) {
  std::string out;
  SpanWriter writer(out, TraceId{counting_bytes<16>(0xa0)}, SpanId{counting_bytes<8>(0x01)},
                    SpanId{}, {"POST", "/v1/chat/completions"}, SpanKind::server, 1, 2);
  writer.end(false);
  EXPECT_EQ(json::parse(out)["name"], "POST /v1/chat/completions");
}

TEST(OtlpSpan, WritesEachAttributeTypeAsItsAnyValue) {
  const json attributes = encode({}, [](SpanWriter& w) {
    w.attr("gen_ai.system", "openai");
    w.attr("gen_ai.request.model", std::string_view("gpt-4o"));
    w.attr("gen_ai.usage.input_tokens", 1234);
    w.attr("big", std::numeric_limits<std::int64_t>::max());
    w.attr("negative", -7L);
    w.attr("gen_ai.request.temperature", 0.25);
    w.attr("gen_ai.request.stream", true);
    w.attr("cache.hit", false);
  })["attributes"];
  ASSERT_EQ(attributes.size(), 8u);
  EXPECT_EQ(attributes[0],
            json::parse(R"({"key":"gen_ai.system","value":{"stringValue":"openai"}})"));
  EXPECT_EQ(attributes[1]["value"], json::parse(R"({"stringValue":"gpt-4o"})"));
  EXPECT_EQ(attributes[2]["value"], json::parse(R"({"intValue":"1234"})"));
  EXPECT_EQ(attributes[3]["value"], json::parse(R"({"intValue":"9223372036854775807"})"));
  EXPECT_EQ(attributes[4]["value"], json::parse(R"({"intValue":"-7"})"));
  EXPECT_EQ(attributes[5]["value"], json::parse(R"({"doubleValue":0.25})"));
  EXPECT_EQ(attributes[6]["value"], json::parse(R"({"boolValue":true})"));
  EXPECT_EQ(attributes[7]["value"], json::parse(R"({"boolValue":false})"));
}

TEST(OtlpSpan, SpellsDoublesJsonCannotHoldAsStrings) {
  const json attributes = encode({}, [](SpanWriter& w) {
    w.attr("nan", std::nan(""));
    w.attr("inf", std::numeric_limits<double>::infinity());
    w.attr("minus_inf", -std::numeric_limits<double>::infinity());
    w.attr("whole", 3.0);
    w.attr("tiny", 1e-300);
  })["attributes"];
  EXPECT_EQ(attributes[0]["value"]["doubleValue"], "NaN");
  EXPECT_EQ(attributes[1]["value"]["doubleValue"], "Infinity");
  EXPECT_EQ(attributes[2]["value"]["doubleValue"], "-Infinity");
  EXPECT_EQ(attributes[3]["value"]["doubleValue"], 3.0);
  EXPECT_EQ(attributes[4]["value"]["doubleValue"], 1e-300);
}

TEST(OtlpSpan, EscapesNamesValuesAndMessages) {
  const json j =
      encode({.name = "quote \" backslash \\ newline \n", .error = true, .message = "said \"no\""},
             [](SpanWriter& w) { w.attr("text", "tab \t control \x01 unicode caf\xc3\xa9"); });
  EXPECT_EQ(j["name"], "quote \" backslash \\ newline \n");
  EXPECT_EQ(j["attributes"][0]["key"], "text");
  EXPECT_EQ(j["attributes"][0]["value"]["stringValue"], "tab \t control \x01 unicode caf\xc3\xa9");
  EXPECT_EQ(j["status"]["message"], "said \"no\"");
}

TEST(OtlpSpan, WritesOkOrErrorWithItsMessage) {
  EXPECT_EQ(encode()["status"], json::parse(R"({"code":1})"));
  EXPECT_EQ(encode({.error = true})["status"], json::parse(R"({"code":2})"));
  EXPECT_EQ(encode({.error = true, .message = "upstream answered 503"})["status"],
            json::parse(R"({"code":2,"message":"upstream answered 503"})"));
  // A message goes with an error only.
  EXPECT_EQ(encode({.message = "fine"})["status"], json::parse(R"({"code":1})"));
}

std::string export_body(std::string_view service, std::string_view version,
                        std::string_view spans) {
  return otlp_export_prefix(service, version) + std::string(spans) + std::string(kOtlpExportSuffix);
}

TEST(OtlpExportBody, WrapsSpansInOneResourceAndScope) {
  const json first = encode();
  const json second = encode({.name = "second"});
  const std::string spans = first.dump() + "," + second.dump();
  const json body = json::parse(export_body("switchyard", "1.2.3", spans));

  ASSERT_EQ(body["resourceSpans"].size(), 1u);
  const json& rs = body["resourceSpans"][0];
  EXPECT_EQ(rs["resource"]["attributes"], json::parse(R"([
    {"key":"service.name","value":{"stringValue":"switchyard"}},
    {"key":"service.version","value":{"stringValue":"1.2.3"}}])"));
  ASSERT_EQ(rs["scopeSpans"].size(), 1u);
  EXPECT_EQ(rs["scopeSpans"][0]["scope"],
            json::parse(R"({"name":"switchyard","version":"1.2.3"})"));
  const json& list = rs["scopeSpans"][0]["spans"];
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0], first);
  EXPECT_EQ(list[1]["name"], "second");
}

TEST(OtlpExportBody, IsValidWithoutSpansOrVersion) {
  const json body = json::parse(export_body("gw \"eu\"", "", ""));
  const json& rs = body["resourceSpans"][0];
  EXPECT_EQ(rs["resource"]["attributes"].size(), 1u);
  EXPECT_EQ(rs["resource"]["attributes"][0]["value"]["stringValue"], "gw \"eu\"");
  EXPECT_EQ(rs["scopeSpans"][0]["scope"], json::parse(R"({"name":"switchyard"})"));
  EXPECT_EQ(rs["scopeSpans"][0]["spans"], json::array());
}

TEST(UnixTime, CountsNanosecondsSinceTheEpoch) {
  const std::chrono::system_clock::time_point t{std::chrono::seconds(1'700'000'000)};
  EXPECT_EQ(unix_time_ns(t), 1'700'000'000'000'000'000u);
  EXPECT_GT(unix_time_ns(), 1'700'000'000'000'000'000u);
}

}  // namespace
}  // namespace switchyard::telemetry
