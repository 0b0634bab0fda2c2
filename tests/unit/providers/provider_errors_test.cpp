// The one policy every adapter's errors go through (docs/providers.md, "Error classes"): which
// class, which status and code the client sees, and each provider's wording of "the prompt is too
// long".
#include <gtest/gtest.h>

#include "providers/provider_errors.hpp"

namespace switchyard::providers {
namespace {

TEST(ContextLength, RecognisesEachProvidersWording) {
  for (const char* message : {
           "This model's maximum context length is 8192 tokens. However, you requested 9000 "
           "tokens (8000 in the messages, 1000 in the completion).",
           "prompt is too long: 208656 tokens > 200000 maximum",
           "The input token count (1200293) exceeds the maximum number of tokens allowed "
           "(1048576).",
           "Please reduce the length of the messages or completion.",
           "the request exceeds the available context size, try increasing it",
           "Current length is 9000 while limit is 8192",
           "input tokens exceed the configured limit of 272000 tokens",
       }) {
    EXPECT_TRUE(says_context_length(message)) << message;
  }
  for (const char* message :
       {"Rate limit reached", "Invalid value for 'temperature'", "", "Current length is fine"}) {
    EXPECT_FALSE(says_context_length(message)) << message;
  }
}

TEST(ClassifyError, OverloadAndServerErrorsAreRetryable) {
  for (int status : {500, 502, 503, 529, 408, 409}) {
    const auto e = classify_error({status, "x", {}, {}, {}}, "p");
    EXPECT_EQ(e.error_class, ErrorClass::retryable) << status;
    EXPECT_EQ(e.error.type, "server_error") << status;
  }
  EXPECT_EQ(classify_error({529, "Overloaded", "overloaded_error", {}, {}}, "p").error.status, 503);
  EXPECT_EQ(classify_error({200, "Overloaded", "overloaded_error", {}, {}}, "p").error_class,
            ErrorClass::retryable);
}

TEST(ClassifyError, AGeminiBadKeyIsAnAuthenticationProblemNotABadRequest) {
  const auto e = classify_error({400,
                                 "API key not valid. Please pass a valid API key.",
                                 "INVALID_ARGUMENT",
                                 "API_KEY_INVALID",
                                 {}},
                                "gemini");
  EXPECT_EQ(e.error_class, ErrorClass::fall_over);
  EXPECT_EQ(e.error.status, 401);
  EXPECT_EQ(e.error.code, "invalid_api_key");
}

TEST(ClassifyError, ContextLengthFallsOverAndIsMarked) {
  const auto e = classify_error(
      {400, "prompt is too long: 208656 tokens > 200000 maximum", "invalid_request_error", {}, {}},
      "anthropic");
  EXPECT_EQ(e.error_class, ErrorClass::fall_over);
  EXPECT_TRUE(e.context_length);
  EXPECT_EQ(e.error.status, 400);
  EXPECT_EQ(e.error.param, "messages");
  EXPECT_EQ(e.error.message, "anthropic: prompt is too long: 208656 tokens > 200000 maximum");
}

TEST(ClassifyError, OtherClientErrorsAreFinalWithTheirStatus) {
  EXPECT_EQ(classify_error({422, "bad", {}, {}, {}}, "p").error.status, 422);
  EXPECT_EQ(classify_error({413, "big", "request_too_large", {}, {}}, "p").error.status, 413);
  const auto e =
      classify_error({400, "bad", "invalid_request_error", "invalid_value", "top_p"}, "p");
  EXPECT_EQ(e.error_class, ErrorClass::final);
  EXPECT_EQ(e.error.param, "top_p");
  EXPECT_EQ(e.error.code, "invalid_value");
}

TEST(Clip, CutsLongTextBetweenUtf8Sequences) {
  const std::string text = std::string(299, 'a') + "é and more";
  const auto clipped = clip(text, 300);
  EXPECT_EQ(clipped, std::string(299, 'a') + "…");
}

}  // namespace
}  // namespace switchyard::providers
