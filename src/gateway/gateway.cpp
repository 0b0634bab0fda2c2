#include "switchyard/gateway/gateway.hpp"

#include <charconv>

#include "switchyard/cache/store.hpp"
#include "switchyard/telemetry/request_metrics.hpp"
#include "switchyard/telemetry/tracer.hpp"

namespace switchyard::gateway {

namespace {

namespace http = boost::beast::http;

// Says in x-switchyard-overhead-us how long the request has taken so far beyond its waits on
// upstreams, at the moment its response head goes out.
class TimedSink final : public request::SinkWrapper {
 public:
  TimedSink(request::ResponseSink& inner, const telemetry::RequestRecord& record)
      : SinkWrapper(inner), record_(record) {}
  Awaitable<bool> send(int status, std::string_view content_type, std::string_view body) override {
    add_overhead();
    return inner_.send(status, content_type, body);
  }
  Awaitable<bool> begin_stream(int status, std::string_view content_type) override {
    add_overhead();
    return inner_.begin_stream(status, content_type);
  }

 private:
  void add_overhead() {
    const auto overhead = record_.overhead_at(telemetry::Clock::now()).count();
    char digits[24];  // add_header copies it
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits,
                                   static_cast<std::uint64_t>(std::max<std::int64_t>(0, overhead)));
    inner_.add_header("x-switchyard-overhead-us",
                      std::string_view(digits, static_cast<std::size_t>(end - digits)));
  }
  const telemetry::RequestRecord& record_;
};

unsigned method_bit(http::verb verb) {
  switch (verb) {
    case http::verb::get:
      return handlers::kGet;
    case http::verb::post:
      return handlers::kPost;
    case http::verb::delete_:
      return handlers::kDelete;
    default:
      return 1u << 31;  // answered only by endpoints that take any method
  }
}

}  // namespace

Gateway::Gateway(const WorkerContext& context, std::shared_ptr<const ConfigGeneration> generation,
                 const Gateway* previous)
    : generation_(std::move(generation)),
      tracer_(context.tracer),
      keys_(generation_->config->keys),
      dispatcher_(context.ex, *generation_->config, generation_->board, *context.limit_keeper,
                  *context.shared_health, previous ? &previous->dispatcher_ : nullptr),
      services_{*generation_->config,
                *generation_->routes,
                *generation_->board,
                *generation_->limit_counts,
                generation_->generation,
                *context.control,
                dispatcher_,
                *context.limit_keeper} {
  services_.limits_in_redis = context.redis != nullptr;
  const auto& cache = generation_->config->cache;
  if (cache.enabled) {
    // Without a Redis client (no `redis:` at start) the memory backend stands in.
    const bool redis = cache.backend == config::Cache::Backend::redis && context.redis_cache;
    services_.cache = redis ? context.redis_cache : context.memory_cache;
    services_.cache_in_redis = redis;
  }
  services_.metrics = context.metrics;
  services_.request_metrics = context.request_metrics;
  services_.mcp = context.mcp;
  services_.loopback = this;
  services_.redis = context.redis;
  endpoints_ = handlers::make_endpoints(services_);
  if (context.health_checks)
    health_checker_ =
        std::make_unique<dispatch::HealthChecker>(context.ex, dispatcher_, *generation_->routes);
}

Gateway::~Gateway() = default;

void Gateway::start() {
  if (health_checker_) health_checker_->start(shared_from_this());
}

void Gateway::retire() {
  if (health_checker_) health_checker_->stop();
}

void Gateway::set_draining() {
  services_.draining = true;
  retire();
}

const handlers::Endpoint* Gateway::find(std::string_view path) const {
  for (const auto& e : endpoints_)
    if (e.path == path || (!e.short_path.empty() && e.short_path == path) ||
        (e.subpaths && path.size() > e.path.size() + 1 && path.starts_with(e.path) &&
         path[e.path.size()] == '/'))
      return &e;
  return nullptr;
}

Awaitable<void> Gateway::handle(request::Context& request) {
  const request::HttpRequest& http = request.http;
  TimedSink sink(request.response(), request.record);
  request::Context::Through through(request, sink);
  auto& record = request.record;
  record.request_id = request.request_id();
  record.method = http.method_string();
  const std::string_view target = http.target();
  record.path = target.substr(0, target.find('?'));
  const handlers::Endpoint* endpoint = find(record.path);
  record.endpoint = endpoint ? endpoint->metrics_name : "unknown";
  request.dialect = dialect_of(endpoint, http);
  begin_trace(request);
  if (services_.metrics) services_.request_metrics->started(*services_.metrics);
  const bool quiet = endpoint && endpoint->quiet;
  // Unknown paths and wrong methods too: without a key, a client learns nothing of what is
  // served here.
  const auto refusal = authorize(endpoint ? endpoint->access : handlers::Access::key, request);
  if (refusal) {
    co_await request.refuse(*refusal);
  } else if (!endpoint || !(endpoint->methods & method_bit(http.method()))) {
    co_await reject(endpoint, request);
  } else {
    co_await endpoint->handler->handle(request);
  }
  finish(request, quiet);
}

Awaitable<void> Gateway::reject(const handlers::Endpoint* endpoint, request::Context& request) {
  const auto& record = request.record;
  const api::ApiError error = endpoint ? api::errors::method_not_allowed(record.method, record.path)
                                       : api::errors::unknown_path(record.method, record.path);
  co_await request.response().send_error(error, request.dialect);
}

api::Dialect Gateway::dialect_of(const handlers::Endpoint* endpoint,
                                 const request::HttpRequest& http) {
  using Speaks = handlers::Endpoint::Speaks;
  const Speaks speaks = endpoint ? endpoint->speaks : Speaks::both;
  if (speaks == Speaks::anthropic || (speaks == Speaks::both && http.find("anthropic-version")))
    return api::Dialect::anthropic;
  return api::Dialect::openai;
}

std::optional<api::ApiError> Gateway::authorize(handlers::Access access,
                                                request::Context& request) const {
  if (!keys_.enabled() || access == handlers::Access::open) return std::nullopt;
  // Bearer, as OpenAI's SDKs send it; else x-api-key, as Anthropic's do.
  const auto authorization = request.http.find("authorization");
  const auto api_key = request.http.find("x-api-key");
  const config::GatewayKey* key = nullptr;
  if (authorization) {
    key = keys_.find(*authorization);
  } else if (api_key) {
    key = keys_.find_key(*api_key);
  }
  std::optional<api::ApiError> refusal;
  if (!key) {
    refusal = !authorization && !api_key ? api::errors::missing_api_key()
                                         : api::errors::invalid_api_key();
  } else if (access == handlers::Access::admin && !key->admin) {
    refusal =
        api::errors::permission_denied("The key '" + key->name + "' may not use the admin API.");
  }
  if (key) request.record.key = key->name;
  request.key = key;
  return refusal;
}

void Gateway::finish(request::Context& request, bool quiet) const {
  auto& record = request.record;
  auto& response = request.response();
  // Only a client that hung up leaves without a response (499: nginx's "client closed
  // request").
  record.status = response.committed() ? response.status() : 499;
  record.bytes_out = response.bytes_sent();
  record.overhead = record.overhead_at(telemetry::Clock::now());
  if (services_.metrics) services_.request_metrics->finished(*services_.metrics, record);
  if (quiet) return;
  telemetry::log_request(record);
  if (tracer_) tracer_->record(record);
}

// The client's trace goes on through the gateway (a traceparent that does not parse starts a new
// one, as W3C Trace Context says). Whether it is exported: the client's sampled flag when it
// sent one, else `tracing.sample` of the traces that start here, decided on the trace id as
// OpenTelemetry's ratio sampler does, so every replica decides the same for a trace.
void Gateway::begin_trace(request::Context& request) const {
  auto& record = request.record;
  const auto& http = request.http;
  record.span_id = telemetry::new_span_id();
  std::optional<telemetry::TraceParent> parent;
  if (const auto field = http.find("traceparent")) parent = telemetry::parse_traceparent(*field);
  const auto& tracing = services_.config.tracing;
  if (parent) {
    record.trace_id = parent->trace;
    record.parent_span = parent->parent;
    record.trace_flags = parent->flags;
    if (const auto state = http.find("tracestate"); state && telemetry::valid_tracestate(*state))
      record.tracestate = *state;
  } else {
    record.trace_id = telemetry::new_trace_id();
    std::uint64_t draw = 0;
    for (std::size_t i = 8; i < 16; ++i) draw = draw << 8 | record.trace_id.bytes[i];
    const bool sampled =
        tracing.sample >= 1 || static_cast<double>(draw >> 11) * 0x1p-53 < tracing.sample;
    if (tracer_ && sampled) record.trace_flags = telemetry::kTraceFlagSampled;
  }
  record.traced = tracer_ && (record.trace_flags & telemetry::kTraceFlagSampled);
}

}  // namespace switchyard::gateway
