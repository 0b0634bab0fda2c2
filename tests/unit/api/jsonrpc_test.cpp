// Reading MCP's JSON-RPC messages and writing the answers: what is a request, a notification or a
// response, and which error code each malformed message gets.
#include "switchyard/api/jsonrpc.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace switchyard::api::jsonrpc {
namespace {

Message read(std::string_view body) {
  auto m = read_message(body);
  EXPECT_TRUE(m) << body << ": " << (m ? "" : m.error().message);
  return m ? *std::move(m) : Message{};
}

Error refused(std::string_view body) {
  auto m = read_message(body);
  EXPECT_FALSE(m) << body;
  return m ? Error{} : std::move(m).error();
}

TEST(JsonRpcRead, ARequestKeepsItsIdAndParamsAsSent) {
  const auto m = read(
      R"({"jsonrpc":"2.0","id":"a\"1","method":"tools/call","params":{"name":"x","arguments":{}}})");
  EXPECT_EQ(m.kind, Kind::request);
  EXPECT_EQ(m.id, R"("a\"1")");
  EXPECT_EQ(m.method, "tools/call");
  EXPECT_EQ(m.params, R"({"name":"x","arguments":{}})");

  const auto numbered = read(R"({"method":"ping","id":7,"jsonrpc":"2.0"})");
  EXPECT_EQ(numbered.kind, Kind::request);
  EXPECT_EQ(numbered.id, "7");
  EXPECT_TRUE(numbered.params.empty());
}

TEST(JsonRpcRead, AMessageWithoutAnIdIsANotification) {
  const auto m = read(R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
  EXPECT_EQ(m.kind, Kind::notification);
  EXPECT_TRUE(m.id.empty());
  EXPECT_EQ(m.method, "notifications/initialized");
}

TEST(JsonRpcRead, EscapedMemberNamesAreTheSameMembers) {
  const auto m = read(R"({"jsonrpc":"2.0","\u0069d":1,"m\u0065thod":"ping"})");
  EXPECT_EQ(m.kind, Kind::request);
  EXPECT_EQ(m.id, "1");
  EXPECT_EQ(m.method, "ping");
}

TEST(JsonRpcRead, ResponsesFromTheClientCarryAResultOrAnError) {
  const auto result = read(R"({"jsonrpc":"2.0","id":3,"result":{"role":"assistant"}})");
  EXPECT_EQ(result.kind, Kind::result);
  EXPECT_EQ(result.result, R"({"role":"assistant"})");

  const auto error = read(R"({"jsonrpc":"2.0","id":"s","error":{"code":-1,"message":"no"}})");
  EXPECT_EQ(error.kind, Kind::error);
  EXPECT_EQ(error.id, R"("s")");
  EXPECT_EQ(error.error, R"({"code":-1,"message":"no"})");
}

TEST(JsonRpcRead, TextThatIsNotJsonIsAParseErrorWithoutAnId) {
  for (const char* body : {"", "{", R"({"jsonrpc":"2.0","id":1,"method":"ping",})", "nul"}) {
    const auto e = refused(body);
    EXPECT_EQ(e.code, kParseError) << body;
    EXPECT_TRUE(e.id.empty()) << body;
  }
}

TEST(JsonRpcRead, BatchesAndNonObjectsAreInvalidRequests) {
  EXPECT_EQ(refused(R"([{"jsonrpc":"2.0","id":1,"method":"ping"}])").code, kInvalidRequest);
  EXPECT_EQ(refused("42").code, kInvalidRequest);
  EXPECT_EQ(refused(R"("ping")").code, kInvalidRequest);
}

TEST(JsonRpcRead, AMalformedRequestIsRefusedUnderItsIdWhenTheIdIsUsable) {
  const auto version = refused(R"({"jsonrpc":"1.0","id":5,"method":"ping"})");
  EXPECT_EQ(version.code, kInvalidRequest);
  EXPECT_EQ(version.id, "5");
  EXPECT_NE(version.message.find("jsonrpc"), std::string::npos);

  const auto missing = refused(R"({"id":"x","method":"ping"})");
  EXPECT_EQ(missing.code, kInvalidRequest);
  EXPECT_EQ(missing.id, R"("x")");

  const auto method = refused(R"({"jsonrpc":"2.0","id":2,"method":5})");
  EXPECT_EQ(method.code, kInvalidRequest);
  EXPECT_EQ(method.id, "2");

  const auto both = refused(R"({"jsonrpc":"2.0","id":2,"method":"ping","result":{}})");
  EXPECT_EQ(both.code, kInvalidRequest);
}

TEST(JsonRpcRead, AnIdMustBeAStringOrAnIntegerAndNeverNull) {
  for (const char* body : {R"({"jsonrpc":"2.0","id":null,"method":"ping"})",
                           R"({"jsonrpc":"2.0","id":1.5,"method":"ping"})",
                           R"({"jsonrpc":"2.0","id":true,"method":"ping"})",
                           R"({"jsonrpc":"2.0","id":{"a":1},"method":"ping"})",
                           R"({"jsonrpc":"2.0","id":1,"id":2,"method":"ping"})"}) {
    const auto e = refused(body);
    EXPECT_EQ(e.code, kInvalidRequest) << body;
    EXPECT_TRUE(e.id.empty()) << body;  // not echoed: it is not an id
  }
}

TEST(JsonRpcRead, ParamsThatAreNotAnObjectAreInvalidParams) {
  const auto e = refused(R"({"jsonrpc":"2.0","id":9,"method":"tools/list","params":["a"]})");
  EXPECT_EQ(e.code, kInvalidParams);
  EXPECT_EQ(e.id, "9");
}

TEST(JsonRpcRead, AResponseNeedsExactlyOneWellFormedOutcome) {
  EXPECT_EQ(refused(R"({"jsonrpc":"2.0","id":1})").code, kInvalidRequest);
  EXPECT_EQ(
      refused(R"({"jsonrpc":"2.0","id":1,"result":{},"error":{"code":1,"message":"m"}})").code,
      kInvalidRequest);
  EXPECT_EQ(refused(R"({"jsonrpc":"2.0","id":1,"error":{"code":"1","message":"m"}})").code,
            kInvalidRequest);
  EXPECT_EQ(refused(R"({"jsonrpc":"2.0","id":1,"result":[]})").code, kInvalidRequest);
  EXPECT_EQ(refused(R"({"jsonrpc":"2.0","result":{}})").code, kInvalidRequest);
}

TEST(JsonRpcWrite, AnswersAreJsonRpcWithTheIdAsItCame) {
  const auto ok = nlohmann::json::parse(result_response(R"("a\"1")", R"({"tools":[]})"));
  EXPECT_EQ(ok, nlohmann::json::parse(R"({"jsonrpc":"2.0","id":"a\"1","result":{"tools":[]}})"));

  const auto error =
      nlohmann::json::parse(error_response("4", kMethodNotFound, "Method \"x\" not found"));
  EXPECT_EQ(error["id"], 4);
  EXPECT_EQ(error["error"]["code"], -32601);
  EXPECT_EQ(error["error"]["message"], "Method \"x\" not found");

  // A message whose id could not be read is answered without one.
  const auto parse = nlohmann::json::parse(error_response(refused("{")));
  EXPECT_FALSE(parse.contains("id"));
  EXPECT_EQ(parse["error"]["code"], kParseError);
}

TEST(JsonRpcWrite, RequestsAndNotificationsReadBackAsWhatTheyAre) {
  // The message is read in place: its text outlives what was read from it.
  const std::string request_text = request_message("7", "tools/call", R"({"name":"echo"})");
  const auto request = read_message(request_text);
  ASSERT_TRUE(request);
  EXPECT_EQ(request->kind, Kind::request);
  EXPECT_EQ(request->id, "7");
  EXPECT_EQ(request->method, "tools/call");
  EXPECT_EQ(request->params, R"({"name":"echo"})");

  const std::string notification_text = request_message({}, "notifications/initialized", {});
  const auto notification = read_message(notification_text);
  ASSERT_TRUE(notification);
  EXPECT_EQ(notification->kind, Kind::notification);
  EXPECT_TRUE(notification->params.empty());

  const std::string relayed_text = raw_error_response("3", R"({"code":-32002,"message":"no"})");
  const auto relayed = read_message(relayed_text);
  ASSERT_TRUE(relayed);
  EXPECT_EQ(relayed->kind, Kind::error);
  EXPECT_EQ(relayed->error, R"({"code":-32002,"message":"no"})");
}

}  // namespace
}  // namespace switchyard::api::jsonrpc
