// Embeddings in two wire formats, from one deterministic function of the text, so a test can
// send the same text through OpenAI and Gemini and compare the vectors exactly:
//   OpenAI  POST .../embeddings  {"model","input":string|[string]|[int]|[[int]],"dimensions"?,
//           "encoding_format"?} -> {"object":"list","data":[{"object":"embedding","index",
//           "embedding"}],"model","usage":{"prompt_tokens","total_tokens"}}
//   Gemini  POST .../models/{m}:batchEmbedContents  {"requests":[{"model","content":{"parts":
//           [{"text"}]},"outputDimensionality"?}]} -> {"embeddings":[{"values"}]}
//           POST .../models/{m}:embedContent  {"content",...} -> {"embedding":{"values"}}
#pragma once

#include "exchange.hpp"
#include "response_script.hpp"
#include "wire_format.hpp"

#include <boost/asio/awaitable.hpp>

#include <string_view>
#include <vector>

namespace switchyard::mock {

// Dimensions when the request does not ask for a number: small enough to read in a test log.
inline constexpr int kDefaultEmbeddingDimensions = 8;

// A unit-length vector derived from a hash of `text`, each value rounded to 6 decimals so it
// prints (and compares) the same in every format.
std::vector<double> embedding_vector(std::string_view text, int dimensions);

// Called once the script's delay and status are dealt with.
boost::asio::awaitable<ConnectionFate> serve_openai_embeddings(Exchange& exchange,
                                                               const ResponseScript& script,
                                                               std::string_view mock_name);
boost::asio::awaitable<ConnectionFate> serve_gemini_embeddings(Exchange& exchange,
                                                               const ResponseScript& script,
                                                               const GeminiTarget& target);

}  // namespace switchyard::mock
