#include "response_cache.hpp"

#include "switchyard/api/json.hpp"
#include "switchyard/api/messages_output.hpp"
#include "switchyard/cache/completion.hpp"
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

// A cache entry: who answered (one JSON line), then the chat.completion the client got. Written
// and read with the gateway's own scanner: a hit is on the hot path, and a DOM for three strings
// cost more than the rest of the lookup but the key (8.6k instructions).
std::string encode_entry(const telemetry::RequestRecord& record, std::string_view completion) {
  std::string entry = "{\"provider\":";
  api::json::append_quoted(entry, record.provider);
  entry += ",\"model\":";
  api::json::append_quoted(entry, record.served_model);
  entry += ",\"upstream\":";
  api::json::append_quoted(entry, record.upstream_model);
  entry += "}\n";
  entry += completion;
  return entry;
}

struct Entry {
  std::string provider, model, upstream;
  std::string_view completion;
};

// Where an entry came from decides how it is read. One from this process's memory was written by
// encode_entry around a completion that passed storable_completion: its members are walked
// without validating them again (a validating pass over the completion was most of a hit's cost
// once the key is remembered). One from Redis may have been written or damaged by anything that
// reaches the server, so it is validated, and a damaged one is a miss.
enum class Origin { this_process, redis };

// Calls on_member(key_raw, value) for each top-level member of `object`, or, from this
// process, until it returns false; false when `object` is not valid JSON.
template <class OnMember>
bool read_members(std::string_view object, Origin origin, OnMember&& on_member) {
  if (origin == Origin::redis) return !api::json::scan(object, on_member);
  while (!object.empty() && api::json::Cursor::is_ws(object.front())) object.remove_prefix(1);
  api::json::for_each_member(object, on_member);
  return true;
}

std::optional<Entry> decode_entry(std::string_view entry, Origin origin) {
  const auto newline = entry.find('\n');
  if (newline == std::string_view::npos) return std::nullopt;
  Entry out{{}, {}, {}, entry.substr(newline + 1)};
  const bool valid = read_members(entry.substr(0, newline), origin,
                                  [&out](std::string_view key, const api::json::Value& v) {
                                    if (v.type != api::json::Type::string) return;
                                    if (api::json::key_equals(key, "provider"))
                                      out.provider = api::json::unescape(v.raw);
                                    if (api::json::key_equals(key, "model"))
                                      out.model = api::json::unescape(v.raw);
                                    if (api::json::key_equals(key, "upstream"))
                                      out.upstream = api::json::unescape(v.raw);
                                  });
  if (!valid) return std::nullopt;
  return out;
}

// The completion with its top-level "model" saying `model` (what this client is shown); nullopt
// when it is not JSON (an entry damaged in Redis: a miss). Only storable answers were stored, so
// this one pass is all a hit needs.
std::optional<std::string> with_model(std::string_view completion, std::string_view model,
                                      Origin origin) {
  std::string_view raw;
  const bool valid =
      read_members(completion, origin, [&](std::string_view key, const api::json::Value& value) {
        if (raw.empty() && api::json::key_equals(key, "model") &&
            value.type == api::json::Type::string)
          raw = value.raw;
        return raw.empty();  // a walk that need not validate stops at the first "model"
      });
  if (!valid) return std::nullopt;
  std::string out;
  if (raw.empty()) return std::string(completion);
  const std::size_t at = static_cast<std::size_t>(raw.data() - completion.data());
  out.append(completion.substr(0, at));
  api::json::append_quoted(out, model);
  out.append(completion.substr(at + raw.size()));
  return out;
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
Awaitable<void> replay(const dispatch::DispatchRequest& job, const Entry& entry,
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
  const Origin origin = services_.cache_in_redis ? Origin::redis : Origin::this_process;
  const auto entry = stored ? decode_entry(*stored, origin) : std::nullopt;
  auto completion =
      entry ? with_model(entry->completion,
                         job.report_upstream_model ? std::string_view(entry->upstream) : job.model,
                         origin)
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
  services_.cache->put(key_, std::make_shared<const std::string>(encode_entry(record, *completion)),
                       ttl_);
}

}  // namespace switchyard::handlers
