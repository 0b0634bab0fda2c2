#include "gemini_response.hpp"

#include <algorithm>
#include <array>

namespace switchyard::providers::gemini {

namespace {

Usage read_usage(const Json& metadata) {
  Usage usage;
  usage.reported = true;
  usage.prompt = count(metadata, "promptTokenCount");  // cached tokens included
  usage.reasoning = count(metadata, "thoughtsTokenCount");
  // Portkey reports candidatesTokenCount alone; thoughts are output tokens too, and OpenAI's
  // completion_tokens include reasoning ones, so prompt + completion reconciles with the total
  // (GW).
  usage.completion = count(metadata, "candidatesTokenCount") + usage.reasoning;
  usage.cached = count(metadata, "cachedContentTokenCount");
  usage.total = count(metadata, "totalTokenCount",
                      usage.prompt + usage.completion + count(metadata, "toolUsePromptTokenCount"));
  return usage;
}

bool read_part(const Json& part, Candidate& candidate, std::string& detail) {
  if (!part.is_object()) {
    detail = "a part is not an object";
    return false;
  }
  if (const Json* call = find(part, "functionCall")) {
    const std::string* name = find_string(*call, "name");
    if (!name) {
      detail = "a functionCall has no name";
      return false;
    }
    Part out;
    out.is_call = true;
    out.call.name = *name;
    if (const std::string* id = find_string(*call, "id")) out.call.id = *id;
    const Json* args = find(*call, "args");
    out.call.arguments = args ? dump(*args) : "{}";
    candidate.parts.push_back(std::move(out));
    candidate.has_call = true;
    return true;
  }
  const Json* text = find(part, "text");
  if (!text) return true;  // inlineData, executableCode…: nothing OpenAI's chat carries
  if (!text->is_string()) {
    detail = "a text part's text is not a string";
    return false;
  }
  // Thought summaries are the model's reasoning, not its answer.
  if (const Json* thought = find(part, "thought"); thought && *thought == true) return true;
  Part out;
  out.text = text->get<std::string>();
  candidate.parts.push_back(std::move(out));
  return true;
}

bool read_candidate(const Json& in, Candidate& out, std::string& detail) {
  if (!in.is_object()) {
    detail = "a candidate is not an object";
    return false;
  }
  // Proto3 JSON leaves a default value out: a missing index is 0.
  const Json* index = find(in, "index");
  out.index = index && index->is_number_integer() ? index->get<int>() : 0;
  if (const std::string* finish = find_string(in, "finishReason")) out.finish = *finish;
  const Json* content = find(in, "content");
  if (!content) return true;  // a candidate stopped (SAFETY…) before saying anything
  const Json* parts = find(*content, "parts");
  if (!content->is_object() || (parts && !parts->is_array())) {
    detail = "a candidate's content has no parts list";
    return false;
  }
  if (parts)
    for (const Json& part : *parts)
      if (!read_part(part, out, detail)) return false;
  return true;
}

}  // namespace

bool read_response(const Json& doc, Response& out, std::string& detail) {
  if (!doc.is_object()) {
    detail = "the response is not a JSON object";
    return false;
  }
  if (const std::string* id = find_string(doc, "responseId")) out.id = *id;
  if (const Json* feedback = find(doc, "promptFeedback"))
    if (const std::string* reason = find_string(*feedback, "blockReason"))
      out.block_reason = *reason;
  if (const Json* metadata = find(doc, "usageMetadata"); metadata && metadata->is_object())
    out.usage = read_usage(*metadata);
  const Json* candidates = find(doc, "candidates");
  if (!candidates) return true;
  if (!candidates->is_array()) {
    detail = "candidates is not a list";
    return false;
  }
  bool unique = true;
  for (const Json& in : *candidates) {
    Candidate candidate;
    if (!read_candidate(in, candidate, detail)) return false;
    for (const Candidate& seen : out.candidates) unique = unique && seen.index != candidate.index;
    out.candidates.push_back(std::move(candidate));
  }
  // Without indexes that tell candidates apart (a proxy that drops them), their order does.
  if (!unique)
    for (std::size_t i = 0; i < out.candidates.size(); ++i)
      out.candidates[i].index = static_cast<int>(i);
  return true;
}

std::string_view finish_reason(std::string_view gemini, bool has_call) {
  if (has_call) return "tool_calls";
  if (gemini == "MAX_TOKENS") return "length";
  // RECITATION (the answer would quote training data too closely) is a filter that cut the
  // answer, as LiteLLM reads it; OTHER stays stop, as Portkey reads it. Gateways disagree; this
  // is our choice (docs/providers.md, "Finish reasons").
  static constexpr std::array<std::string_view, 7> kFiltered = {
      "SAFETY", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "LANGUAGE", "RECITATION", "IMAGE_"};
  for (const auto word : kFiltered)
    if (word.back() == '_' ? gemini.starts_with(word) : gemini == word) return "content_filter";
  // STOP, FINISH_REASON_UNSPECIFIED, MALFORMED_FUNCTION_CALL, UNEXPECTED_TOOL_CALL,
  // TOO_MANY_TOOL_CALLS, OTHER, NO_IMAGE and reasons newer than this list.
  return "stop";
}

std::string synthesized_call_id(std::string_view request_id, int n) {
  return "call_" + std::string(request_id) + "_" + std::to_string(n);
}

Result<void, ProviderError> decode_chat_body(std::string& body, const Call& call, Usage& usage) {
  const std::string& provider = call.provider.name;
  const Json doc = parse(body);
  if (doc.is_discarded())
    return Unexpected(bad_response(provider, "the response is not JSON: " + clip(body)));
  // An error envelope in a 2xx body: what it says decides, as for a non-2xx one.
  if (auto error = classify_envelope(doc, 0, provider)) return Unexpected(std::move(*error));
  Response response;
  std::string detail;
  if (!read_response(doc, response, detail))
    return Unexpected(bad_response(provider, std::move(detail)));

  std::vector<Choice> choices;
  if (response.candidates.empty()) {
    if (response.block_reason.empty())
      return Unexpected(bad_response(provider, "the response has no candidates: " + clip(body)));
    Choice blocked;  // the prompt was refused: no answer at all
    blocked.has_content = true;
    blocked.finish_reason = "content_filter";
    choices.push_back(std::move(blocked));
  } else {
    std::vector<Candidate>& candidates = response.candidates;
    std::stable_sort(candidates.begin(), candidates.end(),
                     [](const Candidate& a, const Candidate& b) { return a.index < b.index; });
    int calls = 0;
    for (const Candidate& candidate : candidates) {
      Choice choice;
      for (const Part& part : candidate.parts) {
        if (!part.is_call) {
          choice.content += part.text;
          continue;
        }
        ToolCall tool = part.call;
        if (tool.id.empty()) tool.id = synthesized_call_id(call.request_id, calls);
        ++calls;
        choice.tool_calls.push_back(std::move(tool));
      }
      // content is null only for an answer that is nothing but tool calls, as OpenAI's is.
      choice.has_content = !choice.content.empty() || choice.tool_calls.empty();
      choice.finish_reason = finish_reason(candidate.finish, candidate.has_call);
      choices.push_back(std::move(choice));
    }
  }
  usage = response.usage;
  const std::string id =
      "chatcmpl-" + (response.id.empty() ? std::string(call.request_id) : response.id);
  body = completion_json(id, call, choices, usage);
  return {};
}

}  // namespace switchyard::providers::gemini
