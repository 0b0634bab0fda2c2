#include "gemini_generate.hpp"

#include "conversation.hpp"
#include "gemini_request.hpp"
#include "provider_errors.hpp"
#include "scripted_stream.hpp"
#include "wire_text.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace switchyard::mock {
namespace {

using json = nlohmann::ordered_json;

constexpr std::string_view kStreamMethod = "streamGenerateContent";
// Starts like a response and stops mid-array, so a client's JSON parser must fail on it.
constexpr std::string_view kMalformedBody = R"({"candidates":[{"content":)";
constexpr std::string_view kMalformedElement = "{not json";

// What every response of one generation, streamed or not, repeats.
struct GenerationIdentity {
  std::string response_id;  // mock-<name>-<n>
  std::string model;        // from the path
  int candidates = 1;       // generationConfig.candidateCount
};

// promptTokenCount includes cached tokens and totalTokenCount adds the thoughts, as Gemini
// counts them; candidatesTokenCount covers every candidate.
json usage_json(const GenerationIdentity& identity, TokenUsage usage) {
  const int candidates = usage.completion_tokens * identity.candidates;
  json result{{"promptTokenCount", usage.prompt_tokens},
              {"candidatesTokenCount", candidates},
              {"totalTokenCount", usage.prompt_tokens + candidates + usage.reasoning_tokens}};
  if (usage.cached_tokens > 0) result["cachedContentTokenCount"] = usage.cached_tokens;
  if (usage.reasoning_tokens > 0) result["thoughtsTokenCount"] = usage.reasoning_tokens;
  return result;
}

// One response holding `parts` in every candidate (they all say the same), with a finish
// reason and usage only on a generation's last response.
json response_json(const GenerationIdentity& identity, const json& parts,
                   const std::string* finish_reason, const json* usage) {
  json candidates = json::array();
  for (int i = 0; i < identity.candidates; ++i) {
    json candidate{{"content", {{"role", "model"}, {"parts", parts}}}};
    if (finish_reason != nullptr) candidate["finishReason"] = *finish_reason;
    candidate["index"] = i;
    candidates.push_back(std::move(candidate));
  }
  json response{{"candidates", std::move(candidates)}};
  if (usage != nullptr) response["usageMetadata"] = *usage;
  response["modelVersion"] = identity.model;
  response["responseId"] = identity.response_id;
  return response;
}

json blocked_json(const GenerationIdentity& identity, std::string_view reason, TokenUsage usage) {
  return json{
      {"promptFeedback", {{"blockReason", reason}}},
      {"usageMetadata",
       {{"promptTokenCount", usage.prompt_tokens}, {"totalTokenCount", usage.prompt_tokens}}},
      {"modelVersion", identity.model},
      {"responseId", identity.response_id}};
}

// Gemini sends a call whole, without an id; the gateway must make one up.
json function_call_part(const ToolCall& call) {
  return json{{"functionCall", {{"name", call.name}, {"args", call.arguments}}}};
}

json answer_parts(const Answer& answer) {
  json parts = json::array();
  for (const ToolCall& call : answer.tool_calls) parts.push_back(function_call_part(call));
  if (!answer.calls_tools()) parts.push_back(json{{"text", answer.text}});
  return parts;
}

// The two ways a stream frames its responses.
class StreamFraming {
 public:
  explicit StreamFraming(bool sse) : sse_(sse) {}

  std::string_view content_type() const { return sse_ ? "text/event-stream" : "application/json"; }
  // What opens the body: nothing for SSE, the array's bracket otherwise.
  std::string_view opening() const { return sse_ ? "" : "["; }
  std::string element(std::string_view text, bool first) const {
    if (sse_) return "data: " + std::string(text) + "\r\n\r\n";
    return (first ? "" : ",\r\n") + std::string(text);
  }
  std::string closing() const { return sse_ ? "" : "]"; }
  // The raw error: on its own in an SSE body, as one more element closing the array otherwise.
  std::string error(const std::string& raw, bool first) const {
    if (sse_) return raw;
    return (first ? "" : ",\r\n") + raw + "]";
  }

 private:
  bool sse_;
};

boost::asio::awaitable<ConnectionFate> stream_generation(
    Exchange& exchange, const ResponseScript& script, const GenerationIdentity& identity,
    const Answer& answer, const std::string& finish_reason, TokenUsage usage, bool sse) {
  const StreamFraming framing(sse);
  auto head = stream_head(exchange.request(), framing.content_type());
  bool alive = co_await exchange.start_stream(head);
  if (alive) alive = co_await exchange.send_event(framing.opening());
  if (!alive) co_return exchange.peer_gone();

  if (script.blocked) {
    // A blocked prompt is the stream's only response.
    const std::vector<std::string> only{
        framing.element(dump_json(blocked_json(identity, *script.blocked, usage)), true) +
        framing.closing()};
    co_return co_await finish_stream(exchange, only);
  }

  std::size_t elements = 0;
  std::vector<std::string> prelude;
  if (script.malformed) prelude.push_back(framing.element(kMalformedElement, elements++ == 0));
  std::vector<StreamUnit> units;
  if (answer.calls_tools()) {
    for (const ToolCall& call : answer.tool_calls) {
      const json response =
          response_json(identity, json::array({function_call_part(call)}), nullptr, nullptr);
      units.push_back({framing.element(dump_json(response), elements++ == 0)});
    }
  } else {
    for (const std::string& piece : split_content(answer.text, script.chunks)) {
      const json response =
          response_json(identity, json::array({json{{"text", piece}}}), nullptr, nullptr);
      units.push_back({framing.element(dump_json(response), elements++ == 0)});
    }
  }
  for (const std::string& event : prelude) {
    alive = co_await exchange.send_event(event);
    if (!alive) co_return exchange.peer_gone();
  }
  // Whether the error is the first array element depends on where the script puts it.
  const std::size_t error_after =
      script.error_event_after < 0
          ? 0
          : std::min(static_cast<std::size_t>(script.error_event_after), units.size());
  const bool error_first = prelude.empty() && error_after == 0;
  const std::optional<ConnectionFate> ended = co_await send_stream_units(
      exchange, script, units, framing.error(gemini_stream_error(script), error_first));
  if (ended) co_return *ended;

  std::vector<std::string> tail;
  if (!script.no_done) {
    const json final_usage = usage_json(identity, usage);
    const json last =
        response_json(identity, json::array({json{{"text", ""}}}), &finish_reason, &final_usage);
    tail.push_back(framing.element(dump_json(last), elements++ == 0));
  }
  tail.push_back(framing.closing());
  co_return co_await finish_stream(exchange, tail);
}

}  // namespace

boost::asio::awaitable<ConnectionFate> serve_gemini_generate(
    Exchange& exchange, const ResponseScript& script, std::string_view mock_name, MockStats& stats,
    const GeminiTarget& target, std::string_view query) {
  const Request& request = exchange.request();
  const bool stream = target.method == kStreamMethod;
  if (!stream && script.drop_after == 0) co_return exchange.drop();
  const json body = json::parse(request.body(), nullptr, /*allow_exceptions=*/false);
  if (auto problem = gemini_request_error(body)) {
    // Built before the co_await: GCC 12 destroys an aggregate temporary inside a co_await
    // expression twice.
    const ProviderError error{400, std::move(*problem), std::nullopt};
    Response response = json_response(request, 400, gemini_error_body(error));
    co_return co_await exchange.send(std::move(response));
  }

  GenerationIdentity identity;
  identity.response_id =
      "mock-" + std::string(mock_name) + "-" + std::to_string(stats.next_completion_number());
  identity.model = target.model;
  identity.candidates = gemini_candidate_count(body);
  const Answer answer = decide_answer(read_gemini_conversation(body), script, mock_name);
  // Gemini has no "tool calls" finish reason: a turn that calls functions still ends with STOP.
  const std::string finish_reason = script.finish_reason.value_or("STOP");
  const TokenUsage usage = token_usage(request.body(), script);

  if (stream) {
    co_return co_await stream_generation(exchange, script, identity, answer, finish_reason, usage,
                                         query_value(query, "alt") == "sse");
  }
  std::string response_body;
  if (script.malformed) {
    response_body = kMalformedBody;
  } else if (script.blocked) {
    response_body = dump_json(blocked_json(identity, *script.blocked, usage));
  } else {
    const json final_usage = usage_json(identity, usage);
    response_body =
        dump_json(response_json(identity, answer_parts(answer), &finish_reason, &final_usage));
  }
  co_return co_await exchange.send(json_response(request, 200, std::move(response_body)));
}

}  // namespace switchyard::mock
