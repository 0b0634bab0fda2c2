#include "response_cache.hpp"

#include "switchyard/api/json.hpp"
#include "switchyard/api/messages_output.hpp"
#include "switchyard/cache/completion.hpp"
#include "switchyard/cache/entry.hpp"
#include "switchyard/cache/key.hpp"
#include "switchyard/cache/store.hpp"
#include "switchyard/config/config.hpp"
#include "switchyard/providers/adapter.hpp"
#include "switchyard/routing/cost.hpp"
#include "switchyard/telemetry/request_log.hpp"
#include "switchyard/upstream/sse.hpp"

namespace switchyard::handlers {

namespace {

constexpr std::string_view kCacheHeader = "x-switchyard-cache";

struct ClientDirectives {
  bool no_cache = false;  // do not answer from the cache (the fresh answer is still stored)
  bool no_store = false;  // do not store this answer
  bool valid = true;
};

// "no-cache", "no-store", or both separated by commas, as HTTP's Cache-Control writes them.
ClientDirectives read_directives(const request::HttpRequest& http) {
  ClientDirectives d;
  const auto given = http.find(kCacheHeader);
  if (!given) return d;
  std::string_view rest = *given;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    std::string_view token = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
    while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
    if (token == "no-cache") {
      d.no_cache = true;
    } else if (token == "no-store") {
      d.no_store = true;
    } else if (!token.empty()) {
      d.valid = false;
    }
  }
  return d;
}

// The `data:` payloads of an OpenAI event stream, fed to an assembler.
std::optional<std::string> assemble(std::string_view sse) {
  cache::StreamAssembler assembler;
  upstream::SseParser parser(sse.size() + 1);
  parser.feed(sse);
  while (auto event = parser.next())
    if (event->has_data) assembler.add(event->data);
  return assembler.completion();
}

// What a hit sends the client: the completion, or its chunks for a streaming request — said in
// Anthropic's terms for a Messages request; nullopt when it cannot be (a miss, then).
std::optional<std::string> client_answer(const dispatch::DispatchRequest& job,
                                         std::string completion) {
  if (!job.messages) {
    if (!job.chat->stream()) return completion;
    return cache::replay_as_sse(completion, job.chat->include_usage());
  }
  if (!job.messages->stream()) {
    auto message = api::completion_to_message(completion);
    return message ? std::optional(std::move(*message)) : std::nullopt;
  }
  api::MessageEvents events;
  std::string out;
  if (!events.feed(cache::replay_as_sse(completion, /*include_usage=*/true), out) || !events.done())
    return std::nullopt;
  return out;
}

// A hit: this request's route and the provider that answered the first time.
Awaitable<void> replay(const dispatch::DispatchRequest& job, const cache::Entry& entry,
                       const std::string& answer, request::Context& request,
                       const config::Config& config) {
  auto& record = request.record;
  auto& response = request.response();
  record.cache = "hit";
  record.route = job.route->name;
  if (const auto* provider = config.find_provider(entry.provider)) record.provider = provider->name;
  if (const auto* model = config.find_model(entry.model)) {
    record.served_model = model->name;
    record.upstream_model = model->upstream;
  }
  response.add_header(kCacheHeader, "hit");
  response.add_header("x-switchyard-route", job.route->name);
  response.add_header("x-switchyard-provider", entry.provider);
  response.add_header("x-switchyard-model", entry.model);
  response.add_header("x-switchyard-upstream-model", entry.upstream);
  response.add_header("x-switchyard-attempts", "0");
  response.add_header("x-switchyard-cost", routing::format_usd(0));
  if (!job.stream()) {
    co_await response.send(200, "application/json", answer);
    co_return;
  }
  bool written = co_await response.begin_stream(200, "text/event-stream");
  if (written) written = co_await response.write_chunk(answer);
  if (written) co_await response.end_stream();
  record.stream_end = written ? "done" : "client_gone";
}

}  // namespace

void ResponseCache::bypass(request::Context& request) {
  request.record.cache = "bypass";
  request.response().add_header(kCacheHeader, "bypass");
}

Awaitable<bool> ResponseCache::answer(const dispatch::DispatchRequest& job,
                                      request::Context& request) {
  const auto begun = telemetry::Clock::now();
  const bool answered = co_await look_up(job, request);
  request.record.phase(services_.cache_in_redis ? "redis.cache_lookup" : "cache.lookup", begun,
                       request.record.cache);
  co_return answered;
}

Awaitable<bool> ResponseCache::look_up(const dispatch::DispatchRequest& job,
                                       request::Context& request) {
  const auto& config = services_.config;
  auto& record = request.record;
  auto& response = request.response();
  const ClientDirectives directives = read_directives(request.http);
  if (!directives.valid) {
    const auto error = api::errors::invalid_request(
        "Invalid x-switchyard-cache header: expected no-cache, no-store or both", kCacheHeader,
        "invalid_header");
    co_await request.refuse(error);
    co_return true;
  }
  const auto& ttl = job.route->cache_ttl;
  const std::chrono::milliseconds lifetime = ttl ? *ttl : config.cache.ttl;
  std::string key;
  // A Messages request is asked as its chat equivalent, so the same question through either door
  // is the same entry; one whose equivalent leaves something out has no key that covers it.
  const api::ChatRequest* chat = job.chat_view();
  const bool whole = chat && (!job.messages || job.messages->left_out().empty());
  if (lifetime.count() > 0 && whole) {
    const std::string_view scope =
        config.cache.share_across_models ? std::string_view() : job.route->name;
    auto decision =
        cache::cache_key(chat->body(), scope, cache::KeyPolicy{config.cache.max_temperature});
    key = std::move(decision.key);
  }
  if (key.empty() || (directives.no_cache && directives.no_store)) {
    bypass(request);
    co_return false;
  }
  if (!directives.no_store) key_ = key;
  ttl_ = lifetime;
  if (directives.no_cache) {
    bypass(request);
    co_return false;
  }

  const auto stored = co_await services_.cache->get(key);
  const auto origin =
      services_.cache_in_redis ? cache::EntryOrigin::redis : cache::EntryOrigin::this_process;
  const auto entry = stored ? cache::decode_entry(*stored, origin) : std::nullopt;
  auto completion =
      entry ? cache::with_model(
                  entry->completion,
                  job.report_upstream_model ? std::string_view(entry->upstream) : job.model, origin)
            : std::nullopt;
  const auto answer = completion ? client_answer(job, std::move(*completion)) : std::nullopt;
  if (!answer) {
    record.cache = "miss";
    response.add_header(kCacheHeader, "miss");
    co_return false;
  }
  co_await replay(job, *entry, *answer, request, config);
  co_return true;
}
void ResponseCache::store(const dispatch::DispatchRequest& job, const request::Context& request,
                          const BodyCopy& copy) const {
  const auto& record = request.record;
  // Only a whole 2xx answer, as the client got it.
  if (key_.empty() || copy.overflowed() || copy.status() / 100 != 2 || record.served_model.empty())
    return;
  std::string_view answer = copy.body();
  std::string openai;
  if (job.messages) {
    // Kept in OpenAI's shape, as every entry is.
    const auto* provider = services_.config.find_provider(record.provider);
    const auto* model = services_.config.find_model(record.served_model);
    if (!provider || !model) return;
    const providers::Call call{*provider, *model, {}, request.request_id(), {}, job.model};
    auto converted = providers::anthropic_as_openai(answer, job.stream(), call);
    if (!converted) return;
    openai = std::move(*converted);
    answer = openai;
  }
  std::optional<std::string> completion;
  if (job.stream()) {
    if (record.stream_end != "done") return;
    completion = assemble(answer);
  } else if (cache::storable_completion(answer)) {
    completion = std::string(answer);
  }
  if (!completion) return;
  services_.cache->put(
      key_,
      std::make_shared<const std::string>(cache::encode_entry(record.provider, record.served_model,
                                                              record.upstream_model, *completion)),
      ttl_);
}

}  // namespace switchyard::handlers
