#include "gemini_stream.hpp"

#include "provider_errors.hpp"
#include "switchyard/upstream/sse.hpp"

namespace switchyard::providers::gemini {

GenerateStream::GenerateStream(const Call& call) : call_(call) {}

ChatStream::State GenerateStream::on_event(const upstream::SseEvent& event, std::string& out) {
  if (!event.has_data) {
    // Gemini writes an in-stream error as raw (pretty-printed, multi-line) JSON without
    // `data:` — the SDK accumulates such lines until the braces balance [GG-py]. The SSE
    // parser hands them over as one field-only event; its raw text is the JSON.
    const std::string_view raw = event.raw;
    const std::size_t first = raw.find_first_not_of(" \t\r\n");
    if (first != std::string_view::npos && (raw[first] == '{' || raw[first] == '['))
      return on_error_text(raw);
    return State::open;  // comments, keep-alives
  }
  const Json doc = parse(event.data);
  if (doc.is_discarded())
    return fail(
        bad_response(call_.provider.name, "a stream event that is not JSON: " + clip(event.data)));
  if (auto error = classify_envelope(doc, 0, call_.provider.name)) return fail(std::move(*error));
  return on_response(doc, out);
}

ChatStream::State GenerateStream::on_error_text(std::string_view text) {
  const Json doc = parse(text);
  auto error = doc.is_discarded() ? std::nullopt : classify_envelope(doc, 0, call_.provider.name);
  if (!error)
    return fail(bad_response(call_.provider.name, "unexpected text in the stream: " + clip(text)));
  return fail(std::move(*error));
}

ChatStream::State GenerateStream::on_response(const Json& doc, std::string& out) {
  Response response;
  std::string detail;
  if (!read_response(doc, response, detail))
    return fail(bad_response(call_.provider.name, "a stream event " + detail));
  if (!writer_) {
    // Gemini repeats the responseId on every event; the first one names the stream.
    const std::string_view id = response.id.empty() ? call_.request_id : response.id;
    writer_.emplace("chatcmpl-" + std::string(id), call_);
  }
  if (response.usage.reported) usage_ = response.usage;  // the latest counts are the totals

  if (response.candidates.empty() && !response.block_reason.empty()) {
    // The prompt was refused (first event only): one choice, filtered, and nothing will follow.
    if (!choices_.contains(0)) writer_->role(out, 0);
    writer_->finish(out, "content_filter", 0);
    choices_[0].finished = true;
    said_something_ = true;
    return complete(out);
  }
  for (const Candidate& candidate : response.candidates) {
    const int choice = candidate.index;
    if (!choices_.contains(choice)) writer_->role(out, choice);
    ChoiceState& state = choices_[choice];
    for (const Part& part : candidate.parts) {
      if (part.is_call) {
        const std::string id =
            part.call.id.empty() ? synthesized_call_id(call_.request_id, calls_) : part.call.id;
        ++calls_;
        writer_->tool_call(out, state.tool_calls++, id, part.call.name, part.call.arguments,
                           choice);
        said_something_ = true;
      } else if (!part.text.empty()) {
        writer_->content(out, part.text, choice);
        said_something_ = true;
      }
    }
    if (!candidate.finish.empty() && !state.finished) {
      // A candidate's calls may have come in earlier events than its finishReason.
      writer_->finish(out, finish_reason(candidate.finish, state.tool_calls > 0), choice);
      state.finished = true;
      said_something_ = true;
    }
  }
  return State::open;
}

ChatStream::State GenerateStream::complete(std::string& out) {
  if (call_.include_usage && usage_.reported) {
    writer_->usage(out, usage_);
    said_something_ = true;
  }
  ChunkWriter::done(out);
  return State::done;
}

ChatStream::State GenerateStream::on_end(std::string& out) {
  bool all_finished = !choices_.empty();
  for (const auto& [index, state] : choices_) all_finished = all_finished && state.finished;
  if (!all_finished)
    return fail(bad_response(call_.provider.name, "the stream ended without a finishReason"));
  return complete(out);
}

}  // namespace switchyard::providers::gemini
