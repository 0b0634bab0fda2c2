#include "response_script.hpp"

#include "wire_text.hpp"

#include <boost/algorithm/string/predicate.hpp>
#include <nlohmann/json.hpp>

#include <cctype>
#include <charconv>

namespace switchyard::mock {
namespace {

namespace http = boost::beast::http;

constexpr std::string_view kHeaderPrefix = "x-mock-";
constexpr std::string_view kTargetHeader = "x-mock-target";

// Upper bounds keep a typo ("x-mock-delay-ms: 50000000") from wedging a test run for days and
// a huge chunk count from making one response allocate without bound.
constexpr int kMaxDelayMs = 600'000;
constexpr int kMaxChunks = 100'000;
// Per byte: even a short response is a few hundred bytes, so this already makes it take minutes.
constexpr int kMaxTrickleMs = 10'000;
// More calls than any provider returns in one turn; enough for any test of parallel calls.
constexpr int kMaxToolCalls = 128;
constexpr int kMaxTokens = 100'000'000;

std::optional<int> parse_int(std::string_view text, int min, int max) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value < min || value > max) {
    return std::nullopt;
  }
  return value;
}

std::optional<bool> parse_flag(std::string_view text) {
  if (text == "1" || boost::iequals(text, "true") || boost::iequals(text, "yes")) return true;
  if (text == "0" || boost::iequals(text, "false") || boost::iequals(text, "no")) return false;
  return std::nullopt;
}

std::string bad_value(std::string_view directive, std::string_view value) {
  return "bad value for " + std::string(directive) + ": '" + std::string(value) + "'";
}

}  // namespace

std::optional<std::string> apply_directive(ResponseScript& script, std::string_view directive,
                                           std::string_view value) {
  auto set_int = [&](int& field, int min, int max) -> std::optional<std::string> {
    auto parsed = parse_int(value, min, max);
    if (!parsed) return bad_value(directive, value);
    field = *parsed;
    return std::nullopt;
  };
  auto set_flag = [&](bool& field) -> std::optional<std::string> {
    auto parsed = parse_flag(value);
    if (!parsed) return bad_value(directive, value);
    field = *parsed;
    return std::nullopt;
  };

  if (directive == "status") {
    auto error = set_int(script.status, 200, 599);
    // 200 is what an unscripted request gets anyway; treating it as "no override" lets a test
    // switch a CLI default of --status 503 off for one request.
    if (!error && script.status == 200) script.status = 0;
    return error;
  }
  if (directive == "retry-after") {
    script.retry_after = std::string(value);
    return std::nullopt;
  }
  if (directive == "delay-ms") return set_int(script.delay_ms, 0, kMaxDelayMs);
  if (directive == "delay-percent") return set_int(script.delay_percent, 0, 100);
  if (directive == "trickle-ms") return set_int(script.trickle_ms, 0, kMaxTrickleMs);
  if (directive == "drop-before-head") return set_flag(script.drop_before_head);
  if (directive == "chunks") return set_int(script.chunks, 0, kMaxChunks);
  if (directive == "chunk-delay-ms") return set_int(script.chunk_delay_ms, 0, kMaxDelayMs);
  if (directive == "drop-after") return set_int(script.drop_after, -1, kMaxChunks);
  if (directive == "error-event-after") return set_int(script.error_event_after, -1, kMaxChunks);
  if (directive == "malformed") return set_flag(script.malformed);
  if (directive == "no-done") return set_flag(script.no_done);
  if (directive == "content") {
    script.content = std::string(value);
    return std::nullopt;
  }
  // An empty value switches these back to the mock's own choice, so one request can undo a
  // command-line default.
  auto set_text = [&](std::optional<std::string>& field) -> std::optional<std::string> {
    field = value.empty() ? std::nullopt : std::optional<std::string>(value);
    return std::nullopt;
  };
  if (directive == "finish-reason") return set_text(script.finish_reason);
  if (directive == "error-message") return set_text(script.error_message);
  if (directive == "error-code") return set_text(script.error_code);
  if (directive == "blocked") return set_text(script.blocked);
  if (directive == "tool-calls") return set_int(script.tool_calls, 0, kMaxToolCalls);
  if (directive == "tool-args") {
    // Checked here rather than when answering: a test that scripts arguments no provider could
    // send gets a loud 400, not a mock emitting broken tool calls.
    auto args = nlohmann::ordered_json::parse(value, nullptr, /*allow_exceptions=*/false);
    if (!args.is_object()) return bad_value(directive, value) + " (must be a JSON object)";
    script.tool_args = dump_json(args);
    return std::nullopt;
  }
  if (directive == "cached-tokens") return set_int(script.cached_tokens, 0, kMaxTokens);
  if (directive == "thoughts-tokens") return set_int(script.thoughts_tokens, 0, kMaxTokens);
  return "unknown directive " + std::string(directive);
}

bool delay_applies(std::uint64_t request_number, int percent) {
  if (request_number == 0) return false;
  const auto share = static_cast<std::uint64_t>(percent);
  return request_number * share / 100 > (request_number - 1) * share / 100;
}

std::optional<std::string> apply_request_headers(ResponseScript& script,
                                                 const http::fields& headers,
                                                 std::string_view mock_name) {
  if (auto target = headers.find(kTargetHeader); target != headers.end()) {
    if (target->value() != mock_name) return std::nullopt;
  }
  for (const auto& field : headers) {
    std::string_view name = field.name_string();
    if (name.size() <= kHeaderPrefix.size() || !boost::istarts_with(name, kHeaderPrefix) ||
        boost::iequals(name, kTargetHeader)) {
      continue;
    }
    std::string directive(name.substr(kHeaderPrefix.size()));
    for (char& c : directive) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (auto error = apply_directive(script, directive, field.value())) {
      return "x-mock-" + directive + ": " + *error;
    }
  }
  return std::nullopt;
}

}  // namespace switchyard::mock
