// The response cache step of the pipeline: before dispatch, answer from the cache when the same
// request was answered before (replayed as SSE chunks for a streaming request); after it, store
// what the client got when that is a complete, plain answer. Every chat completion says what the
// cache did in x-switchyard-cache: hit, miss or bypass.
#include <nlohmann/json.hpp>

#include "switchyard/api/json.hpp"
#include "switchyard/cache/completion.hpp"
#include "switchyard/cache/key.hpp"
#include "switchyard/cache/store.hpp"
#include "switchyard/gateway/gateway.hpp"
#include "switchyard/routing/cost.hpp"
#include "switchyard/upstream/sse.hpp"

namespace switchyard::gateway {

namespace {

constexpr std::string_view kCacheHeader = "x-switchyard-cache";

struct ClientDirectives {
  bool no_cache = false;  // do not answer from the cache (the fresh answer is still stored)
  bool no_store = false;  // do not store this answer
  bool valid = true;
};

// "no-cache", "no-store", or both separated by commas, as HTTP's Cache-Control writes them.
ClientDirectives read_directives(const server::Fields& headers) {
  ClientDirectives d;
  const auto given = headers.find(kCacheHeader);
  if (given == headers.end()) return d;
  std::string_view rest = given->value();
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

// A cache entry: who answered (one JSON line), then the chat.completion the client got.
std::string encode_entry(const telemetry::RequestRecord& record, std::string_view completion) {
  std::string entry = nlohmann::json{{"provider", record.provider},
                                     {"model", record.served_model},
                                     {"upstream", record.upstream_model}}
                          .dump();
  entry += '\n';
  entry += completion;
  return entry;
}

struct Entry {
  std::string provider, model, upstream;
  std::string_view completion;
};

std::optional<Entry> decode_entry(std::string_view entry) {
  const auto newline = entry.find('\n');
  if (newline == std::string_view::npos) return std::nullopt;
  const auto meta = nlohmann::json::parse(entry.substr(0, newline), nullptr, false);
  if (!meta.is_object()) return std::nullopt;
  return Entry{meta.value("provider", ""), meta.value("model", ""), meta.value("upstream", ""),
               entry.substr(newline + 1)};
}

// The completion with its top-level "model" saying `model` (what this client is shown); nullopt
// when it is not JSON (an entry damaged in Redis: a miss). Only storable answers were stored, so
// this one validating pass is all a hit needs.
std::optional<std::string> with_model(std::string_view completion, std::string_view model) {
  std::string_view raw;
  const auto invalid = api::json::scan(completion, [&](std::string_view key,
                                                       const api::json::Value& value) {
    if (raw.empty() && api::json::key_equals(key, "model") && value.type == api::json::Type::string)
      raw = value.raw;
  });
  if (invalid) return std::nullopt;
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

}  // namespace

Awaitable<bool> Gateway::consult_cache(const dispatch::DispatchRequest& dispatch,
                                       server::Responder& out, telemetry::RequestRecord& record,
                                       CachePlan& plan) {
  const auto& config = routes_->config();
  const ClientDirectives directives = read_directives(dispatch.headers);
  if (!directives.valid) {
    const auto error = api::errors::invalid_request(
        "Invalid x-switchyard-cache header: expected no-cache, no-store or both", kCacheHeader,
        "invalid_header");
    co_await reject(error, out, record);
    co_return true;
  }
  const auto& ttl = dispatch.route->cache_ttl;
  const std::chrono::milliseconds lifetime = ttl ? *ttl : config.cache.ttl;
  std::string key;
  if (lifetime.count() > 0) {
    const std::string_view scope =
        config.cache.share_across_models ? std::string_view() : dispatch.route->name;
    auto decision = cache::cache_key(dispatch.chat->body(), scope,
                                     cache::KeyPolicy{config.cache.max_temperature});
    key = std::move(decision.key);
  }
  if (key.empty() || (directives.no_cache && directives.no_store)) {
    record.cache = "bypass";
    out.add_header(kCacheHeader, "bypass");
    co_return false;
  }
  plan = CachePlan{directives.no_store ? std::string() : key, lifetime};
  if (directives.no_cache) {
    record.cache = "bypass";
    out.add_header(kCacheHeader, "bypass");
    co_return false;
  }

  const auto stored = co_await cache_->get(key);
  const auto entry = stored ? decode_entry(*stored) : std::nullopt;
  const auto completion =
      entry ? with_model(entry->completion, dispatch.report_upstream_model
                                                ? std::string_view(entry->upstream)
                                                : dispatch.model)
            : std::nullopt;
  if (!completion) {
    record.cache = "miss";
    out.add_header(kCacheHeader, "miss");
    co_return false;
  }

  // A hit: this request's route and the provider that answered the first time.
  record.cache = "hit";
  record.route = dispatch.route->name;
  if (const auto* provider = config.find_provider(entry->provider))
    record.provider = provider->name;
  if (const auto* model = config.find_model(entry->model)) {
    record.served_model = model->name;
    record.upstream_model = model->upstream;
  }
  out.add_header(kCacheHeader, "hit");
  out.add_header("x-switchyard-route", dispatch.route->name);
  out.add_header("x-switchyard-provider", entry->provider);
  out.add_header("x-switchyard-model", entry->model);
  out.add_header("x-switchyard-upstream-model", entry->upstream);
  out.add_header("x-switchyard-attempts", "0");
  out.add_header("x-switchyard-cost", routing::format_usd(0));
  if (!dispatch.chat->stream()) {
    co_await out.send(200, "application/json", *completion);
    co_return true;
  }
  const std::string events = cache::replay_as_sse(*completion, dispatch.chat->include_usage());
  bool written = co_await out.begin_stream(200, "text/event-stream");
  if (written) written = co_await out.write_chunk(events);
  if (written) co_await out.end_stream();
  record.stream_end = written ? "done" : "client_gone";
  co_return true;
}

void Gateway::fill_cache(const CachePlan& plan, const dispatch::DispatchRequest& dispatch,
                         const telemetry::RequestRecord& record, const std::string& body,
                         const server::Responder& out) {
  // Only a whole 2xx answer, as the client got it.
  if (plan.key.empty() || out.capture_overflowed() || out.status() / 100 != 2 ||
      record.served_model.empty())
    return;
  std::optional<std::string> completion;
  if (dispatch.chat->stream()) {
    if (record.stream_end != "done") return;
    completion = assemble(body);
  } else if (cache::storable_completion(body)) {
    completion = body;
  }
  if (!completion) return;
  cache_->put(plan.key, std::make_shared<const std::string>(encode_entry(record, *completion)),
              plan.ttl);
}

}  // namespace switchyard::gateway
