// What switchyard-mock does with one request. The command line sets the defaults; x-mock-*
// request headers override them per request, so an integration test can script exactly the
// provider failure it wants (a 429 with retry-after, a stream that dies after two chunks, ...).
// Every directive means the same in the three wire formats the mock speaks (OpenAI, Anthropic,
// Gemini); each format renders it in its own vocabulary (a finish reason, an error's type).
#pragma once

#include <boost/beast/http/fields.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace switchyard::mock {

// The arguments of a scripted tool call when x-mock-tool-args does not say: what a weather tool,
// the usual example in provider docs, would be called with.
inline constexpr std::string_view kDefaultToolArgs = R"({"location":"Oslo"})";

struct ResponseScript {
  int status = 0;           // 0: answer normally; otherwise an error shaped like the format's
  std::string retry_after;  // sent as retry-after with a scripted status; empty: not sent
  int delay_ms = 0;         // before the response head
  int delay_percent = 100;  // share of requests delay_ms applies to (delay_applies())
  int trickle_ms = 0;       // > 0: the whole response is written a byte at a time, this far apart
  bool drop_before_head = false;  // cut the connection instead of answering (after delay_ms)
  int chunks = 3;                 // content chunks of a stream; completion_tokens everywhere
  int chunk_delay_ms = 0;         // before each content chunk
  int drop_after = -1;            // content chunks sent before the connection is cut; -1: never
  bool malformed = false;
  int error_event_after = -1;  // content chunks sent before an error event; -1: never
  bool no_done = false;
  std::optional<std::string> content;  // nullopt: "Hello from <name>."
  // Sent verbatim as the finish_reason / stop_reason / finishReason; nullopt: the natural one.
  std::optional<std::string> finish_reason;
  // Replace the message, and the OpenAI code / Anthropic error type / Gemini status, of a
  // scripted error (x-mock-status or an in-stream error), so a test can script the exact error
  // a provider sends, e.g. a context-length error. nullopt: the mock's own.
  std::optional<std::string> error_message;
  std::optional<std::string> error_code;
  int tool_calls = 1;                       // calls made when the request offers tools
  std::string tool_args{kDefaultToolArgs};  // a JSON object, kept in compact form
  std::optional<std::string> blocked;       // Gemini: answer promptFeedback.blockReason
  int cached_tokens = 0;                    // reported as cached prompt tokens
  int thoughts_tokens = 0;                  // reported as reasoning / thinking tokens
};

// Sets one directive, named as in the header without its "x-mock-" prefix ("delay-ms").
// The command line and the headers both go through here so they accept the same values.
// Returns an error message for an unknown directive or a bad value.
std::optional<std::string> apply_directive(ResponseScript& script, std::string_view directive,
                                           std::string_view value);

// Whether the mock's `request_number`th scripted request (1-based, counted from start-up or the
// last /_mock/reset) is one of the `percent` in a hundred that delay_ms applies to. Spread
// evenly and deterministically: request k is delayed iff floor(k*percent/100) grows at k, so
// with 10 every tenth request is, the 10th first, and any 20 consecutive requests hold 2.
bool delay_applies(std::uint64_t request_number, int percent);

// Applies a request's x-mock-* headers on top of `script`, unless x-mock-target names another
// mock: one request fanned out by the gateway to several mocks then scripts only one of them.
// Returns an error message for a bad header; a typo should fail a test loudly, not be ignored.
std::optional<std::string> apply_request_headers(ResponseScript& script,
                                                 const boost::beast::http::fields& headers,
                                                 std::string_view mock_name);

}  // namespace switchyard::mock
