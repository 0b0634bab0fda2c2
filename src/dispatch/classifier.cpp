// The external complexity classifier: a model (usually a small local one behind an
// OpenAI-compatible server) asked, through its provider's adapter and this worker's pool, how
// hard a prompt is. It has a strict deadline of its own; whatever goes wrong, the caller falls
// back to the heuristic, so every failure here is a value with a reason.
#include <charconv>
#include <nlohmann/json.hpp>

#include "switchyard/api/json.hpp"
#include "switchyard/dispatch/dispatcher.hpp"
#include "switchyard/providers/adapter.hpp"
#include "switchyard/upstream/exchange.hpp"

namespace switchyard::dispatch {

namespace {

// A classifier's answer is a number; anything longer is not one.
constexpr std::size_t kMaxAnswer = 64 * 1024;
constexpr std::string_view kInstruction =
    "You rate how difficult a request is for a language model to answer well. Reply with only a "
    "number between 0 and 1: 0 for a trivial question or chit-chat, 1 for hard multi-step "
    "reasoning, math, code or analysis.";

// The first number in the reply, if it is a score.
std::optional<double> read_score(std::string_view text) {
  const auto start = text.find_first_of("0123456789.");
  if (start == std::string_view::npos) return std::nullopt;
  double score = 0;
  const auto [end, ec] = std::from_chars(text.data() + start, text.data() + text.size(), score);
  if (ec != std::errc{} || score < 0 || score > 1) return std::nullopt;
  return score;
}

// What a complete classifier response says.
Dispatcher::Score read_answer(const routing::Target& judge, const providers::Call& call, int status,
                              std::string& answer) {
  if (status < 200 || status > 299) return {std::nullopt, "failed: HTTP " + std::to_string(status)};
  providers::Usage usage;
  if (auto decoded = judge.adapter->decode_chat(answer, call, usage); !decoded)
    return {std::nullopt, "failed: " + decoded.error().error.message};
  static const auto kContent = nlohmann::json::json_pointer("/choices/0/message/content");
  const auto reply = nlohmann::json::parse(answer, nullptr, false);
  if (reply.is_object() && reply.contains(kContent) && reply.at(kContent).is_string()) {
    if (auto score = read_score(reply.at(kContent).get_ref<const std::string&>()))
      return {score, {}};
  }
  return {std::nullopt, "failed: the reply was not a score between 0 and 1"};
}

}  // namespace

Awaitable<Dispatcher::Score> Dispatcher::ask_classifier(const routing::Target& judge,
                                                        std::string_view request_id,
                                                        std::string_view prompt,
                                                        std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  board_->counters().classifier_calls.fetch_add(1, std::memory_order_relaxed);
  std::string request = R"({"model":)";
  api::json::append_quoted(request, judge.model->name);
  request += R"(,"messages":[{"role":"system","content":)";
  api::json::append_quoted(request, kInstruction);
  request += R"(},{"role":"user","content":)";
  api::json::append_quoted(request, prompt);
  request += R"(}],"temperature":0,"max_tokens":8})";
  auto parsed = api::parse_chat_request(request);
  const auto* chat = parsed ? &*parsed : nullptr;
  if (!chat) co_return Score{std::nullopt, "failed: the classifier request was not valid"};

  const providers::Call call{*judge.provider,
                             *judge.model,
                             judge.quoted_upstream,
                             request_id,
                             {},
                             judge.model->name,
                             0,
                             /*stream=*/false,
                             false,
                             false};
  std::string head;
  std::string encoded;
  const auto encoding = judge.adapter->encode_chat(*chat, call, head, encoded);
  if (!encoding) co_return Score{std::nullopt, "failed: " + encoding.error().error.message};
  const std::string_view body = chat->body();
  const std::size_t model_at = chat->model_offset();
  std::array<asio::const_buffer, 4> buffers{
      asio::buffer(head), asio::buffer(body.substr(0, model_at)),
      asio::buffer(judge.quoted_upstream),
      asio::buffer(body.substr(model_at + chat->model_raw().size()))};
  if (!encoded.empty()) buffers = {asio::buffer(head), asio::buffer(encoded)};

  upstream::Origin& origin = *origins_[judge.provider_index];
  Score score;
  {
    upstream::Exchange exchange(origin, deadline);
    upstream::Failure sent = co_await exchange.send(buffers);
    std::string answer;
    upstream::Failure read;
    if (!sent) read = co_await exchange.read_body(answer, kMaxAnswer);
    const upstream::Failure& failed = sent ? sent : read;
    if (failed) {
      score.why =
          failed.timeout != upstream::Timeout::none ? "timed out" : "failed: " + failed.detail;
    } else {
      exchange.finish();
      score = read_answer(judge, call, exchange.status(), answer);
    }
  }
  if (!score.value) board_->counters().classifier_fallbacks.fetch_add(1, std::memory_order_relaxed);
  // The next request should not pay for a connection setup inside its few milliseconds.
  warm(judge.provider_index);
  co_return score;
}

}  // namespace switchyard::dispatch
