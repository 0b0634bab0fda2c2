#include "mcp.hpp"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <nlohmann/json.hpp>

#include "switchyard/api/jsonrpc.hpp"
#include "switchyard/config/config.hpp"
#include "switchyard/mcp/active_sessions.hpp"
#include "switchyard/mcp/federation.hpp"
#include "switchyard/mcp/hub.hpp"
#include "switchyard/mcp/protocol.hpp"
#include "switchyard/mcp/session.hpp"
#include "switchyard/state/limit_keeper.hpp"
#include "switchyard/telemetry/request_log.hpp"
#include "switchyard/telemetry/trace_context.hpp"
#include "transport.hpp"

namespace switchyard::handlers {
namespace {

namespace http = beast::http;
namespace jsonrpc = api::jsonrpc;

using namespace mcp_transport;

constexpr std::string_view kVersionHeader = "MCP-Protocol-Version";
// How often a request whose client owes a server an answer looks for it in Redis, where another
// replica that got it leaves it. Answers are a person's (elicitation) or a model's: slow anyway.
constexpr std::chrono::milliseconds kCollectEvery{200};
// A tools/call over a key's or a server's limits. JSON-RPC leaves -32000 to -32099 to the
// implementation; the HTTP status (429) and Retry-After say the rest.
constexpr int kTooManyCalls = -32000;

// What the log line and the metrics say of a request: the server it reaches (only a configured
// one: metrics label by it) and the tool, prompt or resource it names.
void describe(telemetry::RequestRecord::Mcp& log, const config::Mcp& config,
              const std::string& view, const jsonrpc::Message& message) {
  log.method = message.method;
  log.server = view;
  if (message.params.empty()) return;
  const auto params = nlohmann::json::parse(message.params, nullptr, false);
  const auto name = params.find(message.method.starts_with("resources/") ? "uri" : "name");
  if (name == params.end() || !name->is_string()) return;
  log.name = name->get<std::string>();
  if (!view.empty() || message.method.starts_with("resources/")) return;
  if (const auto split = mcp::split_name(log.name); split && config.find_server(split->server)) {
    log.server = std::string(split->server);
    log.name = std::string(split->name);
  }
}

// The JSON-RPC error code of an answer, 0 for a result.
int error_code_of(std::string_view answer) {
  const auto message = jsonrpc::read_message(answer);
  if (!message || message->kind != jsonrpc::Kind::error) return 0;
  const auto error = nlohmann::json::parse(message->error, nullptr, false);
  const auto code = error.is_object() ? error.find("code") : error.end();
  return code != error.end() && code->is_number_integer() ? code->get<int>() : 0;
}

// The servers' lists the request waited for, as spans of their own under `parent` (mcp.call);
// they name the server by a view into the configuration, which outlives the record.
void record_list_waits(telemetry::RequestRecord& record, const config::Mcp& config,
                       mcp::Relay& relay, telemetry::SpanId parent) {
  for (const mcp::ListWait& wait : relay.waits()) {
    const config::McpServer* server = config.find_server(wait.server);
    if (!server) continue;  // gone with a reload since the request began
    record.phases.push_back(
        {"mcp.list", wait.start, wait.took, server->name, {}, parent, !wait.ok});
  }
}

bool origin_allowed(const config::Mcp& config, std::string_view origin) {
  return std::any_of(config.allowed_origins.begin(), config.allowed_origins.end(),
                     [origin](const std::string& o) { return o == "*" || o == origin; });
}

}  // namespace

Mcp::Mcp(const Services& services)
    : services_(services),
      signer_(services.config.mcp.session_secret, services.config.mcp.previous_session_secret) {}

std::string Mcp::tracking_key(std::string_view nonce, std::string_view id) {
  std::string key(nonce);
  key += '|';
  key += id;
  return key;
}

Awaitable<std::string> Mcp::ask_hub(request::Context& request, mcp::ClientRequest call) {
  std::string answer;
  {
    // The hub's time is the servers' time: not the gateway's overhead.
    telemetry::WaitScope waiting(request.record.wait);
    answer = co_await services_.mcp->answer(std::move(call));
  }
  request.record.mcp.error_code = error_code_of(answer);
  co_return answer;
}

Awaitable<void> Mcp::handle(request::Context& request) {
  auto& sink = request.response();
  const auto& http = request.http;
  const config::Mcp& config = services_.config.mcp;
  const std::string_view path = request.record.path;
  Caller caller{std::string(path.size() > 4 ? path.substr(5) : std::string_view()),
                request.key ? request.key->name : std::string(),
                request.key ? request.key->mcp : config::McpAccess{}};
  const std::string& server = caller.server;
  // The key's servers first: a key limited to some servers learns nothing of the others.
  if (!server.empty() && !caller.access.may_use_server(server)) {
    co_await refuse(sink, 403, jsonrpc::kInvalidRequest,
                    "Forbidden: this key may not use MCP server " + server);
    co_return;
  }
  if (!server.empty() && !config.find_server(server)) {
    co_await refuse(sink, 404, jsonrpc::kInvalidRequest, "no MCP server named " + server);
    co_return;
  }
  // Against DNS rebinding: a page of another origin must not reach servers behind the gateway.
  if (const auto origin = http.header("Origin");
      !origin.empty() && !origin_allowed(config, origin)) {
    co_await refuse(sink, 403, jsonrpc::kInvalidRequest,
                    "Forbidden: origin " + std::string(origin) + " is not allowed");
    co_return;
  }
  const std::string_view version_header = http.header(kVersionHeader);
  if (!version_header.empty() && !mcp::is_supported_version(version_header)) {
    co_await refuse(sink, 400, jsonrpc::kInvalidRequest,
                    "Bad Request: unsupported MCP-Protocol-Version " + std::string(version_header));
    co_return;
  }
  if (http.method() == http::verb::delete_) {
    co_await end_session(request, caller);
  } else if (http.method() == http::verb::get) {
    co_await listen(request, caller);
  } else {
    co_await post(request, caller);
  }
}

std::optional<mcp::Session> Mcp::read_session(const request::Context& request,
                                              const Caller& caller) const {
  auto session = mcp::Session::read(request.http.header(kSessionHeader), signer_,
                                    services_.config.mcp.session_ttl);
  if (!session || session->server != caller.server || session->key != caller.key ||
      services_.mcp->session_ended(session->nonce))
    return std::nullopt;
  return session;
}

Awaitable<std::optional<mcp::Session>> Mcp::session_of(request::Context& request,
                                                       const Caller& caller, std::string_view id) {
  if (request.http.header(kSessionHeader).empty()) {
    co_await refuse(request.response(), 400, jsonrpc::kInvalidRequest,
                    "Bad Request: Mcp-Session-Id header is required", id);
    co_return std::nullopt;
  }
  auto session = read_session(request, caller);
  if (session)
    services_.mcp->sessions().seen(*session);
  else
    co_await refuse(request.response(), 404, jsonrpc::kInvalidRequest, "Session not found", id);
  co_return session;
}

Awaitable<void> Mcp::post(request::Context& request, const Caller& caller) {
  auto& sink = request.response();
  const config::Mcp& config = services_.config.mcp;
  const std::string_view accept = request.http.header("Accept");
  if (!accepts(accept, kJson) || !accepts(accept, kEventStream)) {
    co_await refuse(sink, 406, jsonrpc::kInvalidRequest,
                    "Not Acceptable: the client must accept both application/json and "
                    "text/event-stream");
    co_return;
  }
  const std::string& body = request.http.body();
  if (body.size() > config.max_message) {
    co_await refuse(
        sink, 413, jsonrpc::kInvalidRequest,
        "Payload Too Large: a message may have " + std::to_string(config.max_message) + " bytes");
    co_return;
  }
  const auto message = jsonrpc::read_message(body);
  if (!message) {
    co_await sink.send(400, kJson, jsonrpc::error_response(message.error()));
    co_return;
  }
  if (message->kind == jsonrpc::Kind::request && message->method == "initialize") {
    co_await initialize(request, caller, *message);
    co_return;
  }
  const auto session = co_await session_of(request, caller, message->id);
  if (!session) co_return;
  describe(request.record.mcp, config, caller.server, *message);
  request.record.mcp.session = session->nonce;
  if (message->kind == jsonrpc::Kind::result || message->kind == jsonrpc::Kind::error) {
    co_await take_response(request, *session, *message);
    co_return;
  }
  if (message->kind != jsonrpc::Kind::request) {
    // A cancellation reaches the server working on the request, when it runs in this process.
    if (message->method == "notifications/cancelled") {
      const auto params = nlohmann::json::parse(message->params, nullptr, false);
      if (params.is_object() && params.contains("requestId"))
        services_.mcp->cancel(tracking_key(session->nonce, params["requestId"].dump()));
    }
    co_await sink.send(202, {}, {});
    co_return;
  }
  std::vector<InFlight> held;
  if (message->method == "tools/call") {
    const bool admitted = co_await admit_call(request, caller.access, message->id, held);
    if (!admitted) co_return;
  }
  // Named, not a braced temporary in the co_await: GCC 12 destroys that one twice.
  mcp::ClientRequest call{
      caller.server,    std::string(message->id), message->method, std::string(message->params),
      session->version, session->nonce,           caller.access};
  co_await relay_answer(request, std::move(call), *session, held);
  if (message->method == "resources/subscribe" || message->method == "resources/unsubscribe")
    co_await share_subscription(request, *session, message->method == "resources/subscribe");
}

Awaitable<void> Mcp::initialize(request::Context& request, const Caller& caller,
                                const jsonrpc::Message& message) {
  // A client's params, so their types are not trusted: a version that is not a string is one
  // the gateway does not speak.
  const auto params =
      nlohmann::json::parse(message.params.empty() ? "{}" : message.params, nullptr, false);
  const auto version = params.find("protocolVersion");
  const std::string requested =
      version != params.end() && version->is_string() ? version->get<std::string>() : "";
  // What the client answers when a server asks: kept in the session for every later request.
  unsigned features = 0;
  if (const auto offered = params.find("capabilities");
      offered != params.end() && offered->is_object()) {
    for (const auto& [name, feature] : {std::pair{"sampling", mcp::Session::kSampling},
                                        std::pair{"elicitation", mcp::Session::kElicitation},
                                        std::pair{"roots", mcp::Session::kRoots}})
      if (offered->contains(name)) features |= feature;
    if (const auto sampling = offered->find("sampling");
        sampling != offered->end() && sampling->is_object() && sampling->contains("tools"))
      features |= mcp::Session::kSamplingTools;
  }
  mcp::Session session = mcp::Session::open(std::string(mcp::negotiate_version(requested)),
                                            caller.key, caller.server, features);
  mcp::ClientRequest call{
      caller.server,   std::string(message.id), message.method, std::string(message.params),
      session.version, session.nonce,           caller.access};
  describe(request.record.mcp, services_.config.mcp, caller.server, message);
  request.record.mcp.session = session.nonce;
  const std::string answer = co_await ask_hub(request, std::move(call));
  if (request.record.mcp.error_code == 0) {
    // The client's own sessions with the servers, which its id carries.
    telemetry::WaitScope waiting(request.record.wait);
    session.upstream =
        co_await services_.mcp->open_sessions(caller.server, caller.access, session.nonce);
  }
  const std::string id = session.id(signer_);
  if (request.record.mcp.error_code == 0) {
    request.response().add_header(kSessionHeader, id);
    services_.mcp->sessions().seen(session);
  }
  co_await request.response().send(200, kJson, answer);
}

Awaitable<bool> Mcp::admit_call(request::Context& request, const config::McpAccess& access,
                                std::string_view id, std::vector<InFlight>& held) {
  mcp::Hub& hub = *services_.mcp;
  struct Limit {
    std::string name;  // of its counts: "key:<name>", "server:<name>"
    std::string who;   // for the message
    std::uint32_t rpm, max_concurrency;
  };
  std::vector<Limit> limits;
  if (request.key)
    limits.push_back({"key:" + request.key->name, "the key '" + request.key->name + "'", access.rpm,
                      access.max_concurrency});
  if (const auto* server = services_.config.mcp.find_server(request.record.mcp.server))
    limits.push_back({"server:" + server->name, "MCP server " + server->name, server->rpm,
                      server->max_concurrency});
  struct Taken {
    bool shared;
    std::string name;
    std::shared_ptr<state::RateLimiter> limiter;
  };
  std::vector<Taken> taken;
  std::string refusal;
  std::chrono::nanoseconds wait{0};
  for (const Limit& limit : limits) {
    if (limit.rpm > 0) {
      auto limiter = hub.rate_limiter(limit.name, limit.rpm);
      const std::string name = "mcp:" + limit.name + ":rpm";
      const auto got = co_await services_.limit_keeper.take(name, *limiter, 1);
      if (!got.take.granted) {
        refusal = limit.who + " may make " + std::to_string(limit.rpm) + " tools/call a minute";
        wait = got.take.wait;
        break;
      }
      taken.push_back({got.shared, name, std::move(limiter)});
    }
    if (limit.max_concurrency > 0) {
      auto count = hub.in_flight(limit.name);
      if (count->fetch_add(1) >= limit.max_concurrency) {
        count->fetch_sub(1);
        refusal = limit.who + " has " + std::to_string(limit.max_concurrency) +
                  " tools/call in flight already";
        wait = std::chrono::seconds(1);
        break;
      }
      held.emplace_back(std::move(count));
    }
  }
  if (refusal.empty()) co_return true;
  // A refused call counts against no limit: what the others granted goes back.
  for (const Taken& t : taken) services_.limit_keeper.give_back(t.shared, t.name, *t.limiter, 1);
  held.clear();
  const auto seconds = std::max<std::int64_t>(
      1, std::chrono::duration_cast<std::chrono::seconds>(wait + std::chrono::milliseconds(999))
             .count());
  request.record.mcp.error_code = kTooManyCalls;
  request.response().add_header("retry-after", std::to_string(seconds));
  co_await refuse(
      request.response(), 429, kTooManyCalls,
      "Too many requests: " + refusal + "; try again in " + std::to_string(seconds) + " s", id);
  co_return false;
}

Awaitable<void> Mcp::EventStream::write(std::string_view message) {
  if (!begun) begun = co_await sink.begin_stream(200, kEventStream);
  if (begun) co_await sink.write_chunk(mcp::sse_event(message));
}

Awaitable<void> Mcp::relay_answer(request::Context& request, mcp::ClientRequest call,
                                  const mcp::Session& session, std::vector<InFlight>& held) {
  auto& sink = request.response();
  mcp::Hub& hub = *services_.mcp;
  const std::string key = tracking_key(session.nonce, call.id);
  const Executor executor = co_await asio::this_coro::executor;
  auto relay = std::make_shared<mcp::Relay>(executor);
  auto& record = request.record;
  // The servers' part is a span of its own (mcp.call), the parent of what they do.
  const telemetry::SpanId call_span = telemetry::new_span_id();
  const auto traceparent =
      telemetry::format_traceparent(record.trace_id, call_span, record.trace_flags);
  relay->traceparent.assign(traceparent.data(), traceparent.size());
  relay->session = session.nonce;
  relay->upstream = session.upstream;
  const auto call_began = telemetry::Clock::now();
  call.relay = relay;
  hub.track(key, relay);
  request.cancel.watch(&relay->waker());
  sink.watch_client(request.cancel);
  EventStream stream{sink};
  std::vector<std::string> awaited;  // servers' requests the client has yet to answer
  {
    // The hub's time is the servers' time: not the gateway's overhead.
    telemetry::WaitScope waiting(request.record.wait);
    asio::co_spawn(executor, deliver(hub, relay, std::move(call)), asio::detached);
    while (!relay->answer() && !request.cancel.aborted()) {
      // While the client owes a server an answer, another replica may have got it (Redis).
      const bool collecting = !awaited.empty() && services_.redis;
      const Timer::duration bound =
          collecting ? Timer::duration(kCollectEvery) : Timer::duration::max();
      co_await relay->wait(bound);
      if (collecting) co_await collect_answers(awaited);
      for (const std::string& message : relay->take()) co_await stream.write(message);
      std::vector<mcp::ServerRequest> requests = relay->take_requests();
      for (mcp::ServerRequest& asked : requests)
        co_await ask_client(request, session, std::move(asked), stream, awaited);
    }
  }
  record.phase("mcp.call", call_began, record.mcp.server);
  record.phases.back().span = call_span;
  record_list_waits(record, services_.config.mcp, *relay, call_span);
  // The call is over at the server: a client that sends the next one the moment it reads this
  // answer finds the slot free.
  held.clear();
  sink.unwatch_client();
  request.cancel.unwatch(&relay->waker());
  hub.untrack(key);
  for (const std::string& k : awaited)
    hub.abandon_answer(k, "the client's request ended before the client answered");
  if (request.cancel.aborted()) {
    // The client left: the server stops working for it. The answer, when it comes, goes nowhere.
    hub.cancel(relay);
    co_return;
  }
  request.record.mcp.error_code = error_code_of(*relay->answer());
  if (!stream.begun) {
    co_await sink.send(200, kJson, *relay->answer());
  } else {
    co_await stream.write(*relay->answer());
    co_await sink.end_stream();
  }
}

Awaitable<void> McpStatus::handle(request::Context& request) {
  const std::string status = co_await services_.mcp->status();
  co_await request.response().send(200, kJson, status);
}

Awaitable<void> Mcp::deliver(mcp::Hub& hub, std::shared_ptr<mcp::Relay> relay,
                             mcp::ClientRequest call) {
  std::string answer = co_await hub.answer(std::move(call));
  relay->finish(std::move(answer));
}

}  // namespace switchyard::handlers
