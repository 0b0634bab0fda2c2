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

Span client_span() {
  Span span;
  span.trace.bytes = counting_bytes<16>(0xa0);
  span.id.bytes = counting_bytes<8>(0x01);
  span.parent.bytes = counting_bytes<8>(0xf0);
  span.name = "chat gpt-4o";
  span.kind = SpanKind::client;
  span.start_unix_ns = 1'700'000'000'123'456'789;
  span.end_unix_ns = 1'700'000'001'987'654'321;
  return span;
}

json encode(const Span& span) {
  std::string out;
  append_otlp_span(out, span);
  return json::parse(out);
}

TEST(OtlpSpan, WritesIdsAsLowercaseHexAndTimesAsDecimalStrings) {
  const json j = encode(client_span());
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
  Span span = client_span();
  span.parent = SpanId{};
  span.kind = SpanKind::server;
  const json j = encode(span);
  EXPECT_FALSE(j.contains("parentSpanId"));
  EXPECT_EQ(j["kind"], 2);
}

TEST(OtlpSpan, WritesEachAttributeTypeAsItsAnyValue) {
  Span span = client_span();
  span.set("gen_ai.system", "openai");
  span.set("gen_ai.request.model", std::string("gpt-4o"));
  span.set("gen_ai.usage.input_tokens", 1234);
  span.set("big", std::numeric_limits<std::int64_t>::max());
  span.set("negative", -7L);
  span.set("gen_ai.request.temperature", 0.25);
  span.set("gen_ai.request.stream", true);
  span.set("cache.hit", false);
  const json attributes = encode(span)["attributes"];
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

TEST(OtlpSpan, ReplacesAnAttributeSetTwice) {
  Span span = client_span();
  span.set("http.response.status_code", 200);
  span.set("http.response.status_code", 429);
  const json attributes = encode(span)["attributes"];
  ASSERT_EQ(attributes.size(), 1u);
  EXPECT_EQ(attributes[0]["value"]["intValue"], "429");
}

TEST(OtlpSpan, SpellsDoublesJsonCannotHoldAsStrings) {
  Span span = client_span();
  span.set("nan", std::nan(""));
  span.set("inf", std::numeric_limits<double>::infinity());
  span.set("minus_inf", -std::numeric_limits<double>::infinity());
  span.set("whole", 3.0);
  span.set("tiny", 1e-300);
  const json attributes = encode(span)["attributes"];
  EXPECT_EQ(attributes[0]["value"]["doubleValue"], "NaN");
  EXPECT_EQ(attributes[1]["value"]["doubleValue"], "Infinity");
  EXPECT_EQ(attributes[2]["value"]["doubleValue"], "-Infinity");
  EXPECT_EQ(attributes[3]["value"]["doubleValue"], 3.0);
  EXPECT_EQ(attributes[4]["value"]["doubleValue"], 1e-300);
}

TEST(OtlpSpan, EscapesNamesKeysAndValues) {
  Span span = client_span();
  span.name = "quote \" backslash \\ newline \n";
  span.set("key \"x\"", "tab \t control \x01 unicode caf\xc3\xa9");
  const json j = encode(span);
  EXPECT_EQ(j["name"], "quote \" backslash \\ newline \n");
  EXPECT_EQ(j["attributes"][0]["key"], "key \"x\"");
  EXPECT_EQ(j["attributes"][0]["value"]["stringValue"], "tab \t control \x01 unicode caf\xc3\xa9");
}

TEST(OtlpSpan, WritesOkOrErrorWithItsMessage) {
  Span span = client_span();
  EXPECT_EQ(encode(span)["status"], json::parse(R"({"code":1})"));
  span.error = true;
  EXPECT_EQ(encode(span)["status"], json::parse(R"({"code":2})"));
  span.status_message = "upstream answered 503";
  EXPECT_EQ(encode(span)["status"], json::parse(R"({"code":2,"message":"upstream answered 503"})"));
}

TEST(OtlpExportBody, WrapsSpansInOneResourceAndScope) {
  Span first = client_span();
  Span second = client_span();
  second.name = "second";
  std::string spans;
  append_otlp_span(spans, first);
  spans += ',';
  append_otlp_span(spans, second);
  const json body = json::parse(otlp_export_body("switchyard", "1.2.3", spans));

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
  EXPECT_EQ(list[0], encode(first));
  EXPECT_EQ(list[1]["name"], "second");
}

TEST(OtlpExportBody, IsValidWithoutSpansOrVersion) {
  const json body = json::parse(otlp_export_body("gw \"eu\"", "", ""));
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
