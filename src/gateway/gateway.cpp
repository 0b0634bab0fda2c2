#include "switchyard/gateway/gateway.hpp"

#include <algorithm>

#include "quota.hpp"
#include "switchyard/api/chat_request.hpp"
#include "switchyard/api/embeddings_request.hpp"
#include "switchyard/telemetry/request_metrics.hpp"
#include "switchyard/telemetry/tracer.hpp"

namespace switchyard::gateway {

namespace {

namespace http = boost::beast::http;

enum class Endpoint {
  chat,
  embeddings,
  models,
  healthz,
  readyz,
  metrics,
  admin_health,
  admin_explain,
  admin_reload,
  admin_config,
  admin_routes,
  admin_spend,
  admin_cache,
  unknown
};

bool is_admin(Endpoint e) {
  return e >= Endpoint::admin_health && e < Endpoint::unknown;
}

// For metrics: a small fixed set, whatever path the client sent.
std::string_view endpoint_name(Endpoint e) {
  switch (e) {
    case Endpoint::chat:
      return "chat";
    case Endpoint::embeddings:
      return "embeddings";
    case Endpoint::models:
      return "models";
    case Endpoint::healthz:
    case Endpoint::readyz:
      return "probe";
    case Endpoint::metrics:
      return "metrics";
    case Endpoint::unknown:
      return "unknown";
    default:
      return "admin";
  }
}

// A client's own deadline for the whole request, across retries and failovers.
constexpr std::string_view kDeadlineHeader = "x-switchyard-deadline";
constexpr std::string_view kPreferredProviderHeader = "x-switchyard-provider";
// However long a client asks for, no request waits longer than this.
constexpr config::Millis kMaxDeadline{3'600'000};

Endpoint endpoint_of(std::string_view path) {
  // The OpenAI SDKs' base_url usually ends in /v1; accept it without for hand-written clients.
  if (path == "/v1/chat/completions" || path == "/chat/completions") return Endpoint::chat;
  if (path == "/v1/embeddings" || path == "/embeddings") return Endpoint::embeddings;
  if (path == "/v1/models" || path == "/models") return Endpoint::models;
  if (path == "/healthz") return Endpoint::healthz;
  if (path == "/readyz") return Endpoint::readyz;
  if (path == "/metrics") return Endpoint::metrics;
  if (path == "/admin/health") return Endpoint::admin_health;
  if (path == "/admin/explain") return Endpoint::admin_explain;
  if (path == "/admin/reload") return Endpoint::admin_reload;
  if (path == "/admin/config") return Endpoint::admin_config;
  if (path == "/admin/routes") return Endpoint::admin_routes;
  if (path == "/admin/spend") return Endpoint::admin_spend;
  if (path == "/admin/cache") return Endpoint::admin_cache;
  return Endpoint::unknown;
}

}  // namespace

Gateway::Gateway(const WorkerContext& context, std::shared_ptr<const Snapshot> snapshot,
                 const Gateway* previous)
    : snapshot_(std::move(snapshot)),
      routes_(snapshot_->routes.get()),
      ledger_(snapshot_->ledger.get()),
      control_(*context.control),
      cache_(nullptr),
      meter_(*context.meter),
      metrics_(context.metrics),
      request_metrics_(context.request_metrics),
      tracer_(context.tracer),
      redis_(context.redis != nullptr),
      keys_(routes_->config().keys),
      dispatcher_(context.ex, routes_->config(), snapshot_->board, *context.meter,
                  *context.shared_health, previous ? &previous->dispatcher_ : nullptr) {
  const auto& cache = routes_->config().cache;
  if (cache.enabled) {
    // Without a Redis client (no `redis:` at start) the memory backend stands in.
    const bool redis = cache.backend == config::Cache::Backend::redis && context.redis_cache;
    cache_ = redis ? context.redis_cache : context.memory_cache;
    cache_in_redis_ = redis;
  }
  if (context.health_checks)
    health_checker_ = std::make_unique<dispatch::HealthChecker>(context.ex, dispatcher_, *routes_);
}

Gateway::~Gateway() = default;

void Gateway::start() {
  if (health_checker_) health_checker_->start(shared_from_this());
}

void Gateway::retire() {
  if (health_checker_) health_checker_->stop();
}

void Gateway::set_draining() {
  draining_ = true;
  retire();
}

Awaitable<void> Gateway::handle(const Request& request, server::Responder& out) {
  telemetry::RequestRecord record;
  record.request_id = out.request_id();
  record.method = request.method_string();
  const std::string_view target = request.target();
  record.path = target.substr(0, target.find('?'));

  const Endpoint endpoint = endpoint_of(record.path);
  record.endpoint = endpoint_name(endpoint);
  out.time_with(&record);
  begin_trace(request, record);
  if (metrics_) request_metrics_->started(*metrics_);
  const bool is_get = request.method() == http::verb::get;
  const bool is_post = request.method() == http::verb::post;
  bool quiet = false;  // probes and scrapes would drown the log
  // With keys configured, everything but the probes and the metrics scrape needs one.
  const config::GatewayKey* key = nullptr;
  const bool open = endpoint == Endpoint::healthz || endpoint == Endpoint::readyz ||
                    endpoint == Endpoint::metrics;
  if (keys_.enabled() && !open) {
    const auto authorization = request.find(http::field::authorization);
    if (authorization != request.end()) key = keys_.find(authorization->value());
    std::optional<api::ApiError> refusal;
    if (!key) {
      refusal = authorization == request.end() ? api::errors::missing_api_key()
                                               : api::errors::invalid_api_key();
    } else if (is_admin(endpoint) && !key->admin) {
      refusal =
          api::errors::permission_denied("The key '" + key->name + "' may not use the admin API.");
    }
    if (key) record.key = key->name;
    if (refusal) {
      co_await reject(*refusal, out, record);
      finish(out, record, false);
      co_return;
    }
  }
  switch (endpoint) {
    case Endpoint::chat:
      if (is_post) {
        co_await chat(request, out, record, key);
      } else {
        co_await out.send_error(api::errors::method_not_allowed(record.method, record.path));
      }
      break;
    case Endpoint::embeddings:
      if (is_post) {
        co_await embeddings(request, out, record, key);
      } else {
        co_await out.send_error(api::errors::method_not_allowed(record.method, record.path));
      }
      break;
    case Endpoint::models:
      if (is_get) {
        if (key && !key->routes.empty()) {
          const std::string only = routes_->models_json(key->routes);
          co_await out.send(200, "application/json", only);
        } else {
          co_await out.send(200, "application/json", routes_->models_json());
        }
      } else {
        co_await out.send_error(api::errors::method_not_allowed(record.method, record.path));
      }
      break;
    case Endpoint::healthz:
      quiet = true;
      co_await out.send(200, "application/json", R"({"status":"ok"})");
      break;
    case Endpoint::readyz:
      quiet = true;
      if (draining_) {
        co_await out.send(503, "application/json", R"({"status":"draining"})");
      } else {
        // Not ready while every provider fails its health check: a load balancer should send
        // the traffic to a replica that can serve it.
        const std::string body = dispatcher_.board().readiness_json();
        const int status = dispatcher_.board().any_provider_healthy() ? 200 : 503;
        co_await out.send(status, "application/json", body);
      }
      break;
    case Endpoint::metrics:
      quiet = true;
      if (!routes_->config().metrics.enabled) {
        co_await out.send_error(api::errors::unknown_path(record.method, record.path));
      } else if (is_get) {
        const std::string body = metrics_text();
        co_await out.send(200, "text/plain; version=0.0.4; charset=utf-8", body);
      } else {
        co_await out.send_error(api::errors::method_not_allowed(record.method, record.path));
      }
      break;
    case Endpoint::admin_health:
    case Endpoint::admin_config:
    case Endpoint::admin_routes:
    case Endpoint::admin_spend:
    case Endpoint::admin_cache:
      if (is_get) {
        // "health", "config", ...: the path names the view.
        const std::string body = admin_json(record.path.substr(std::string_view("/admin/").size()));
        co_await out.send(200, "application/json", body);
      } else {
        co_await out.send_error(api::errors::method_not_allowed(record.method, record.path));
      }
      break;
    case Endpoint::admin_explain:
      if (is_post) {
        co_await explain(request, out, record);
      } else {
        co_await out.send_error(api::errors::method_not_allowed(record.method, record.path));
      }
      break;
    case Endpoint::admin_reload:
      if (is_post || is_get) {
        co_await reload(request, out);
      } else {
        co_await out.send_error(api::errors::method_not_allowed(record.method, record.path));
      }
      break;
    case Endpoint::unknown:
      co_await out.send_error(api::errors::unknown_path(record.method, record.path));
      break;
  }
  finish(out, record, quiet);
}

void Gateway::finish(server::Responder& out, telemetry::RequestRecord& record, bool quiet) const {
  // Only a client that hung up leaves without a response (499: nginx's "client closed
  // request").
  record.status = out.committed() ? out.status() : 499;
  record.bytes_out = out.bytes_sent();
  record.overhead = record.overhead_at(telemetry::Clock::now());
  if (metrics_) request_metrics_->finished(*metrics_, record);
  if (quiet) return;
  telemetry::log_request(record);
  if (tracer_) tracer_->record(record);
}

// The client's trace goes on through the gateway (a traceparent that does not parse starts a new
// one, as W3C Trace Context says). Whether it is exported: the client's sampled flag when it
// sent one, else `tracing.sample` of the traces that start here, decided on the trace id as
// OpenTelemetry's ratio sampler does, so every replica decides the same for a trace.
void Gateway::begin_trace(const Request& request, telemetry::RequestRecord& record) const {
  record.span_id = telemetry::new_span_id();
  std::optional<telemetry::TraceParent> parent;
  if (const auto field = request.find("traceparent"); field != request.end())
    parent = telemetry::parse_traceparent(field->value());
  const auto& tracing = routes_->config().tracing;
  if (parent) {
    record.trace_id = parent->trace;
    record.parent_span = parent->parent;
    record.trace_flags = parent->flags;
    if (const auto state = request.find("tracestate");
        state != request.end() && telemetry::valid_tracestate(state->value()))
      record.tracestate = state->value();
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

Awaitable<void> Gateway::chat(const Request& request, server::Responder& out,
                              telemetry::RequestRecord& record, const config::GatewayKey* key) {
  auto parsed = api::parse_chat_request(request.body());
  if (auto* error = std::get_if<api::ApiError>(&parsed)) {
    co_await reject(*error, out, record);
    co_return;
  }
  const auto& chat = std::get<api::ChatRequest>(parsed);
  record.stream = chat.stream();
  if (record.stream && metrics_) request_metrics_->stream_started(*metrics_);
  dispatch::DispatchRequest dispatch{request, out.request_id(), chat.model()};
  dispatch.chat = &chat;
  co_await serve(dispatch, out, record, key);
}

Awaitable<void> Gateway::embeddings(const Request& request, server::Responder& out,
                                    telemetry::RequestRecord& record,
                                    const config::GatewayKey* key) {
  auto parsed = api::parse_embeddings_request(request.body());
  if (auto* error = std::get_if<api::ApiError>(&parsed)) {
    co_await reject(*error, out, record);
    co_return;
  }
  const auto& embeddings = std::get<api::EmbeddingsRequest>(parsed);
  dispatch::DispatchRequest dispatch{request, out.request_id(), embeddings.model()};
  dispatch.embeddings = &embeddings;
  co_await serve(dispatch, out, record, key);
}

Awaitable<void> Gateway::serve(dispatch::DispatchRequest& dispatch, server::Responder& out,
                               telemetry::RequestRecord& record, const config::GatewayKey* key) {
  record.requested_model = dispatch.model;
  const routing::Route* asked = routes_->find(dispatch.model);
  if (!asked) {
    // Named first: GCC 12 may destroy a temporary inside a co_await expression twice.
    const auto error = api::errors::model_not_found(dispatch.model);
    co_await reject(error, out, record);
    co_return;
  }
  if (key && !KeyRing::allows(*key, dispatch.model)) {
    const auto error = api::errors::permission_denied("The key '" + key->name +
                                                      "' may not use the model or route '" +
                                                      std::string(dispatch.model) + "'.");
    co_await reject(error, out, record);
    co_return;
  }
  std::optional<config::Millis> client_deadline;
  if (auto given = dispatch.headers.find(kDeadlineHeader); given != dispatch.headers.end()) {
    client_deadline = config::parse_duration(given->value());
    if (!client_deadline || client_deadline->count() <= 0) {
      const auto error = api::errors::invalid_request(
          "Invalid x-switchyard-deadline header: expected a duration such as 2500ms, 30s or 2m",
          kDeadlineHeader, "invalid_header");
      co_await reject(error, out, record);
      co_return;
    }
  }
  // Most routes have neither a classifier nor a budget: no coroutine frame for them.
  Choice choice{asked, std::nullopt, {}, std::nullopt};
  if (asked->complexity || asked->budget) {
    const auto begun = telemetry::Clock::now();
    choice = co_await choose(dispatch, *asked, /*ask_classifier=*/true);
    record.phase("routing", begun, choice.route ? std::string_view(choice.route->name) : "");
  }
  if (choice.verdict) {
    record.complexity = choice.verdict->complex ? "complex" : "simple";
    out.add_header("x-switchyard-complexity", record.complexity);
  }
  record.routing = std::move(choice.reason);
  if (choice.refusal) {
    // The route that refused (a spent budget), for the log.
    if (choice.route) record.route = choice.route->name;
    co_await reject(*choice.refusal, out, record);
    co_return;
  }
  dispatch.route = choice.route;

  state::KeyQuota* quota =
      key ? &ledger_->key(static_cast<std::size_t>(key - routes_->config().keys.data())) : nullptr;
  const bool key_counts_tokens = quota && quota->tokens.limited();
  if (dispatch.chat && (key_counts_tokens || dispatch.route->counts_tokens)) {
    const auto signals = routing::read_signals(dispatch.chat->body());
    dispatch.estimated_tokens = signals.prompt_tokens + signals.max_output_tokens;
  }
  KeyAdmission admission;
  if (quota) {
    const auto begun = telemetry::Clock::now();
    admission = co_await admit_key(*key, *quota, key_counts_tokens ? dispatch.estimated_tokens : 0,
                                   out, meter_);
    record.phase(redis_ ? "redis.key_limits" : "key_limits", begun,
                 admission.refusal ? "refused" : "admitted");
    if (admission.refusal) {
      co_await reject(*admission.refusal, out, record);
      co_return;
    }
  }
  dispatch.report_upstream_model = routes_->config().server.report_upstream_model;

  CachePlan cache_plan;
  if (dispatch.chat && !cache_) {
    record.cache = "bypass";
    out.add_header("x-switchyard-cache", "bypass");
  } else if (dispatch.chat) {
    const auto begun = telemetry::Clock::now();
    const bool answered = co_await consult_cache(dispatch, out, record, cache_plan);
    record.phase(cache_in_redis_ ? "redis.cache_lookup" : "cache.lookup", begun, record.cache);
    if (answered) {
      // Nothing upstream was used: the key's token estimate goes back.
      if (quota) settle_key(*key, *quota, admission, record, /*served=*/false, meter_);
      co_return;
    }
  }
  prefer(dispatch, out, record);
  dispatch.deadline = record.start + (client_deadline ? std::min(*client_deadline, kMaxDeadline)
                                                      : dispatch.route->deadline);

  dispatch::Cancellation cancel;
  // A client that hangs up cancels its upstream request (within a worker tick) instead of
  // leaving it to run, and bill, to the end.
  out.watch_client(cancel);
  std::string answer;  // what the client gets, when it may go into the cache
  if (!cache_plan.key.empty()) out.capture(&answer, routes_->config().cache.max_entry);
  auto result = co_await dispatcher_.run(dispatch, out, record, cancel);
  out.capture(nullptr, 0);
  out.unwatch_client();
  fill_cache(cache_plan, dispatch, record, answer, out);
  // The route that actually served pays, whatever the client named.
  if (dispatch.route->budget && record.usage_reported && record.cost_usd > 0)
    meter_.charge(route_budget(*dispatch.route), ledger_->route(dispatch.route->budget_index),
                  *dispatch.route->budget, record.cost_usd);
  if (quota) settle_key(*key, *quota, admission, record, result.responded, meter_);

  if (cancel.aborted()) {
    record.client_gone = true;
    out.close_after();
    co_return;
  }
  if (!result.responded) {
    record.error = result.error.message;
    // The OpenAI and Anthropic SDKs obey this before their own retry rules: a request whose
    // deadline passed here would only pass it again.
    if (result.error.code == "deadline_exceeded") out.add_header("x-should-retry", "false");
    co_await out.send_error(result.error);
  }
}

// The client's preferred provider — header x-switchyard-provider, else the body's
// metadata.preferred_provider — reorders the plan when the route has a target there; otherwise
// it is ignored, and the response says which.
void Gateway::prefer(dispatch::DispatchRequest& dispatch, server::Responder& out,
                     telemetry::RequestRecord& record) {
  const std::string_view preferred = preferred_provider(dispatch);
  if (preferred.empty()) return;
  const auto& targets = dispatch.route->targets;
  const bool served = std::any_of(targets.begin(), targets.end(), [&](const routing::Target* t) {
    return t->provider->name == preferred;
  });
  out.add_header("x-switchyard-preferred-provider", served ? "applied" : "ignored");
  record.preference = served ? "applied" : "ignored";
  if (served) dispatch.preferred_provider = preferred;
}

std::string_view Gateway::preferred_provider(const dispatch::DispatchRequest& dispatch) {
  if (auto h = dispatch.headers.find(kPreferredProviderHeader); h != dispatch.headers.end())
    return h->value();
  return dispatch.chat ? std::string_view(dispatch.chat->preferred_provider()) : std::string_view();
}

// Refused before any upstream was asked.
Awaitable<void> Gateway::reject(const api::ApiError& error, server::Responder& out,
                                telemetry::RequestRecord& record) {
  out.add_header("x-switchyard-attempts", "0");
  record.error = error.message;
  record.error_code = error.code.empty() ? std::string(error.type) : error.code;
  co_await out.send_error(error);
}

Awaitable<void> Gateway::reload(const Request& request, server::Responder& out) {
  if (request.method() == http::verb::get) {
    co_await out.send(200, "application/json", control_.reload_status());
    co_return;
  }
  const Control::Outcome outcome = co_await control_.reload();
  co_await out.send(outcome.ok ? 200 : 422, "application/json", outcome.json);
}

}  // namespace switchyard::gateway
