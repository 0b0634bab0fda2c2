// The errors the gateway itself sends: OpenAI's body shape with all four keys, escaping that
// survives any message text, and the status, type and code of each kind of failure.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "switchyard/api/error.hpp"

namespace switchyard::api {
namespace {

using nlohmann::json;

// The "error" object of the body, parsed by a reference parser.
json error_body(const ApiError& e) {
  const json body = json::parse(e.to_json());
  EXPECT_EQ(body.size(), 1u) << e.to_json();
  return body.at("error");
}

TEST(ApiError, AlwaysCarriesMessageTypeParamAndCodeWithNullForEmptyOnes) {
  const json bare = error_body(ApiError{500, "server_error", "boom", "", ""});
  EXPECT_EQ(
      bare,
      (json{{"message", "boom"}, {"type", "server_error"}, {"param", nullptr}, {"code", nullptr}}));

  const json full = error_body(ApiError{400, "invalid_request_error", "bad", "messages", "x_y"});
  EXPECT_EQ(full, (json{{"message", "bad"},
                        {"type", "invalid_request_error"},
                        {"param", "messages"},
                        {"code", "x_y"}}));
}

TEST(ApiError, KeepsItsKeysInOpenAiOrder) {
  EXPECT_EQ(ApiError({404, "invalid_request_error", "m", "model", "model_not_found"}).to_json(),
            R"({"error":{"message":"m","type":"invalid_request_error","param":"model",)"
            R"("code":"model_not_found"}})");
}

TEST(ApiError, EscapesQuotesBackslashesNewlinesAndControlCharactersInTheMessage) {
  std::string message =
      "he said \"no\" \\ then\nleft\r\ttab </script> caf\xC3\xA9 \xF0\x9F\x98\x80";
  for (int c = 0; c < 0x20; ++c) message += static_cast<char>(c);
  message += '\x7F';
  const ApiError e{400, "invalid_request_error", message, "messages[0].\"x\"", ""};
  const json body = error_body(e);
  EXPECT_EQ(body.at("message"), message);
  EXPECT_EQ(body.at("param"), "messages[0].\"x\"");
  // One line on the wire: no raw newline may split an SSE data line or a log line.
  EXPECT_EQ(e.to_json().find('\n'), std::string::npos);
}

TEST(Errors, InvalidRequestIsA400WithOptionalParamAndCode) {
  const ApiError plain = errors::invalid_request("nope");
  EXPECT_EQ(plain.status, 400);
  EXPECT_EQ(plain.type, "invalid_request_error");
  EXPECT_EQ(error_body(plain).at("param"), nullptr);
  EXPECT_EQ(error_body(plain).at("code"), nullptr);

  const ApiError detailed = errors::invalid_request("nope", "temperature", "invalid_value");
  EXPECT_EQ(error_body(detailed).at("param"), "temperature");
  EXPECT_EQ(error_body(detailed).at("code"), "invalid_value");
}

TEST(Errors, InvalidJsonSaysWhatAndWhere) {
  const ApiError e = errors::invalid_json("expected ':' after an object key", 17);
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.type, "invalid_request_error");
  EXPECT_NE(e.message.find("expected ':' after an object key at byte 17"), std::string::npos)
      << e.message;
}

TEST(Errors, ModelNotFoundIsA404NamingTheModel) {
  const ApiError e = errors::model_not_found("gpt-\"5\"");
  EXPECT_EQ(e.status, 404);
  EXPECT_EQ(e.type, "invalid_request_error");
  EXPECT_EQ(e.param, "model");
  EXPECT_EQ(e.code, "model_not_found");
  EXPECT_EQ(e.retry_after_s, 0);
  const json body = error_body(e);
  EXPECT_NE(body.at("message").get<std::string>().find("The model `gpt-\"5\"` does not exist"),
            std::string::npos)
      << body.dump();
}

TEST(Errors, UnknownPathStaysValidJsonForATargetThatIsNotUtf8) {
  // The HTTP parser lets any byte above 0x7F through in a request target.
  const ApiError e = errors::unknown_path("GET", "/v1/caf\xE9");
  const json body = error_body(e);
  EXPECT_EQ(body.at("message"), "Invalid URL (GET /v1/caf\xEF\xBF\xBD)");
}

TEST(Errors, EachClientSideLimitHasItsOwnStatusAndCode) {
  const struct {
    ApiError error;
    int status;
    const char* code;
  } cases[] = {
      {errors::unknown_path("GET", "/v2/nothing"), 404, "unknown_url"},
      {errors::method_not_allowed("GET", "/v1/chat/completions"), 405, "method_not_allowed"},
      {errors::body_too_large(8 * 1024 * 1024), 413, "request_too_large"},
      {errors::header_too_large(16 * 1024), 431, "headers_too_large"},
      {errors::request_timeout(), 408, "request_timeout"},
      {errors::malformed_http("bad chunk size"), 400, "malformed_request"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(c.error.status, c.status) << c.code;
    EXPECT_EQ(c.error.type, "invalid_request_error") << c.code;
    EXPECT_EQ(c.error.code, c.code);
    EXPECT_EQ(c.error.retry_after_s, 0) << c.code;
    EXPECT_EQ(error_body(c.error).at("param"), nullptr) << c.code;
  }
}

TEST(Errors, MessagesNameTheOffendingRequestAndLimit) {
  EXPECT_EQ(errors::unknown_path("GET", "/v2/nothing").message, "Invalid URL (GET /v2/nothing)");
  EXPECT_NE(errors::method_not_allowed("PUT", "/v1/models").message.find("PUT"), std::string::npos);
  EXPECT_NE(errors::body_too_large(1048576).message.find("1048576 bytes"), std::string::npos);
  EXPECT_NE(errors::header_too_large(16384).message.find("16384 bytes"), std::string::npos);
  EXPECT_NE(errors::malformed_http("bad chunk size").message.find("bad chunk size"),
            std::string::npos);
}

TEST(Errors, OverloadAndShutdownAre503sAskingToRetryAfterASecond) {
  const ApiError busy = errors::too_many_connections();
  EXPECT_EQ(busy.status, 503);
  EXPECT_EQ(busy.type, "server_error");
  EXPECT_EQ(busy.code, "too_many_connections");
  EXPECT_EQ(busy.retry_after_s, 1);

  const ApiError leaving = errors::shutting_down();
  EXPECT_EQ(leaving.status, 503);
  EXPECT_EQ(leaving.type, "server_error");
  EXPECT_EQ(leaving.code, "shutting_down");
  EXPECT_EQ(leaving.retry_after_s, 1);
}

TEST(Errors, AllTargetsFailedMapsEachKindOfFailureToItsStatus) {
  using errors::UpstreamFailure;
  const struct {
    UpstreamFailure kind;
    int status;
    const char* type;
    const char* code;
  } cases[] = {
      {UpstreamFailure::rate_limited, 429, "rate_limit_exceeded", "rate_limit_exceeded"},
      {UpstreamFailure::timeout, 504, "server_error", "upstream_timeout"},
      {UpstreamFailure::unreachable, 503, "server_error", "upstream_unavailable"},
      {UpstreamFailure::bad_response, 502, "server_error", "upstream_error"},
  };
  for (const auto& c : cases) {
    const ApiError e = errors::all_targets_failed(c.kind, "smart", "a: 429; b: refused", 7);
    EXPECT_EQ(e.status, c.status) << c.code;
    EXPECT_EQ(e.type, c.type) << c.code;
    EXPECT_EQ(e.code, c.code);
    EXPECT_EQ(e.retry_after_s, 7) << c.code;
    EXPECT_EQ(e.message, "No upstream could serve route 'smart': a: 429; b: refused");
    EXPECT_EQ(error_body(e).at("param"), nullptr);
  }
}

TEST(Errors, AllTargetsFailedAsksForNoRetryDelayUnlessGivenOne) {
  EXPECT_EQ(errors::all_targets_failed(errors::UpstreamFailure::timeout, "r", "s").retry_after_s,
            0);
}

TEST(Errors, StreamInterruptedIsAServerErrorCarryingTheReason) {
  const ApiError e = errors::stream_interrupted("upstream closed\nmid-event");
  EXPECT_EQ(e.status, 502);
  EXPECT_EQ(e.type, "server_error");
  EXPECT_EQ(e.code, "stream_interrupted");
  EXPECT_EQ(error_body(e).at("message"),
            "The upstream stream was interrupted: upstream closed\nmid-event");
}

// The Messages door's clients get Anthropic's shape, its error types, and its statuses: 529 for
// an overloaded (503) gateway and no 502.
TEST(ApiError, SaysTheSameInAnthropicsShapeAndStatuses) {
  const auto not_found = errors::model_not_found("nope");
  const json body = json::parse(not_found.to_json(Dialect::anthropic));
  EXPECT_EQ(body["type"], "error");
  EXPECT_EQ(body["error"]["type"], "not_found_error");
  EXPECT_EQ(body["error"]["message"], not_found.message);
  EXPECT_EQ(not_found.status_in(Dialect::anthropic), 404);

  struct Case {
    ApiError error;
    int status;
    const char* type;
  };
  const Case cases[] = {
      {errors::invalid_request("bad"), 400, "invalid_request_error"},
      {errors::invalid_api_key(), 401, "authentication_error"},
      {errors::permission_denied("no"), 403, "permission_error"},
      {errors::body_too_large(10), 413, "request_too_large"},
      {errors::rate_limited("requests", "slow down", 1), 429, "rate_limit_error"},
      {errors::budget_exceeded("spent", 60), 429, "rate_limit_error"},
      {errors::all_targets_failed(errors::UpstreamFailure::bad_response, "r", "x"), 500,
       "api_error"},
      {errors::all_targets_failed(errors::UpstreamFailure::unreachable, "r", "x"), 529,
       "overloaded_error"},
      {errors::all_targets_failed(errors::UpstreamFailure::timeout, "r", "x"), 504,
       "timeout_error"},
      {errors::shutting_down(), 529, "overloaded_error"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.error.message);
    EXPECT_EQ(c.error.status_in(Dialect::anthropic), c.status);
    EXPECT_EQ(json::parse(c.error.to_json(Dialect::anthropic))["error"]["type"], c.type);
    // OpenAI's clients keep OpenAI's status.
    EXPECT_EQ(c.error.status_in(Dialect::openai), c.error.status);
  }
}

TEST(ApiError, EndsAStreamAsEachApiDoes) {
  const auto error = errors::stream_interrupted("upstream reset");
  EXPECT_EQ(error.to_event(Dialect::openai), "data: " + error.to_json() + "\n\n");
  const std::string event = error.to_event(Dialect::anthropic);
  ASSERT_TRUE(event.starts_with("event: error\ndata: ")) << event;
  ASSERT_TRUE(event.ends_with("\n\n")) << event;
  const json data = json::parse(event.substr(18, event.size() - 20));
  EXPECT_EQ(data["type"], "error");
  EXPECT_EQ(data["error"]["type"], "api_error");
}

}  // namespace
}  // namespace switchyard::api
