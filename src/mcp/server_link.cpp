#include "switchyard/mcp/server_link.hpp"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>

#include "json_fields.hpp"
#include "links.hpp"
#include "switchyard/api/jsonrpc.hpp"
#include "switchyard/telemetry/request_log.hpp"

namespace switchyard::mcp {
namespace {

using Clock = std::chrono::steady_clock;
// A server that misses this many pings in a row is started over.
constexpr unsigned kPingsMissedToStartOver = 2;
// A list longer than this many pages is a server paging in circles.
constexpr int kMaxPages = 1'000;

Millis left_until(Clock::time_point deadline) {
  return std::max(std::chrono::duration_cast<Millis>(deadline - Clock::now()), Millis{1});
}

}  // namespace

std::string answer_with(std::string_view id, const Reply& reply) {
  switch (reply.status) {
    case Reply::Status::result:
      return api::jsonrpc::result_response(id, reply.body);
    case Reply::Status::error:
      return api::jsonrpc::raw_error_response(id, reply.body);
    case Reply::Status::unavailable:
    case Reply::Status::timeout:
      break;
  }
  return api::jsonrpc::error_response(id, api::jsonrpc::kInternalError, reply.body);
}

ServerLink::ServerLink(Executor executor, config::McpServer config)
    : executor_(executor), config_(std::move(config)) {}

void ServerLink::stop() {
  stopped_ = true;
  if (ping_timer_) ping_timer_->cancel();
  set_ready(std::nullopt);
}

std::string ServerLink::initialize_params() {
  // One session with the server serves every client, so the gateway offers what any of them may
  // answer: a request of a client that did not declare the capability is refused on its behalf
  // (or served by the server's sampling route).
  const nlohmann::json params = {
      {"protocolVersion", std::string(kLatestVersion)},
      {"capabilities",
       {{"sampling", {{"tools", nlohmann::json::object()}}},
        {"elicitation", nlohmann::json::object()},
        {"roots", nlohmann::json::object()}}},
      {"clientInfo", {{"name", "switchyard"}, {"version", SWITCHYARD_VERSION}}},
  };
  return params.dump();
}

std::string ServerLink::configured_roots() const {
  nlohmann::json roots = nlohmann::json::array();
  for (const auto& [name, uri] : config_.roots) roots.push_back({{"uri", uri}, {"name", name}});
  return nlohmann::json{{"roots", std::move(roots)}}.dump();
}

void ServerLink::on_request(const api::jsonrpc::Message& request, Relay* relay,
                            std::string session) {
  const std::string& method = request.method;
  if (method == "ping") {
    send_message(api::jsonrpc::result_response(request.id, "{}"), std::move(session));
    return;
  }
  if (method == "roots/list" && !config_.roots.empty()) {
    // The operator's roots for the server, whether or not it serves a client's request now.
    send_message(api::jsonrpc::result_response(request.id, configured_roots()), std::move(session));
    return;
  }
  if (method != "sampling/createMessage" && method != "elicitation/create" &&
      method != "roots/list") {
    send_message(api::jsonrpc::error_response(request.id, api::jsonrpc::kMethodNotFound,
                                              "Method not found: " + method),
                 std::move(session));
    return;
  }
  if (!relay) {
    send_message(api::jsonrpc::error_response(
                     request.id, api::jsonrpc::kInvalidRequest,
                     method + " reaches a client only while the server serves one request of it"),
                 std::move(session));
    return;
  }
  // The answer comes from the worker's thread, maybe after the link is gone.
  relay->ask(ServerRequest{config_.name, method, std::string(request.params),
                           [link = weak_from_this(), ex = executor_, id = std::string(request.id),
                            session = std::move(session)](Reply reply) {
                             asio::post(ex, [link, id, session, reply = std::move(reply)] {
                               if (const auto self = link.lock())
                                 self->send_message(answer_with(id, reply), session);
                             });
                           }});
}

Reply reply_of(const api::jsonrpc::Message& response) {
  if (response.kind == api::jsonrpc::Kind::result)
    return Reply{Reply::Status::result, std::string(response.result)};
  return Reply{Reply::Status::error, std::string(response.error)};
}

Reply ServerLink::cancelled() {
  // -32800 as LSP has it: JSON-RPC reserves no code for a cancelled request.
  return Reply{Reply::Status::error, R"({"code":-32800,"message":"Request cancelled"})"};
}

std::string ServerLink::cancelled_notification(std::string_view id, std::string_view reason) {
  nlohmann::json params = {{"requestId", nlohmann::json::parse(id)}, {"reason", reason}};
  return api::jsonrpc::request_message({}, "notifications/cancelled", params.dump());
}

std::optional<ServerInfo> ServerLink::accept_initialize(const Reply& reply) const {
  std::optional<ServerInfo> info;
  if (reply.ok()) info = read_server_info(reply.body);
  if (!info) {
    telemetry::log_event(
        telemetry::Level::warn, "mcp_server_down",
        name() + " could not be initialized: " +
            (reply.ok() ? "its answer to initialize is not one this gateway understands"
                        : reply.body));
  }
  return info;
}

Awaitable<std::optional<std::string>> ServerLink::open_client_session(std::string, Millis) {
  co_return std::nullopt;
}

void ServerLink::became_ready(ServerInfo info) {
  telemetry::log_event(telemetry::Level::info, "mcp_server_up",
                       name() + " is ready (protocol " + info.protocol_version + ")");
  set_ready(std::move(info));
}

void ServerLink::set_ready(std::optional<ServerInfo> info) {
  info_ = std::move(info);
  up_ = info_.has_value();
  for (Timer* t : ready_waiters_) t->cancel();
}

void ServerLink::list_changed(ListKind kind) {
  lists_[std::size_t(kind)].reset();
  ++list_versions_[std::size_t(kind)];
}

void ServerLink::forget_lists() {
  for (const ListSpec& spec : kLists) list_changed(spec.kind);
}

void ServerLink::on_notification(const api::jsonrpc::Message& notification, std::string_view raw,
                                 Relay* relay) {
  const std::string& method = notification.method;
  if (method == "notifications/progress") {
    auto params = nlohmann::json::parse(notification.params, nullptr, false);
    const auto token = params.is_object() ? params.find("progressToken") : params.end();
    if (token == params.end() || !token->is_string()) return;
    const auto it = progress_.find(token->get<std::string>());
    if (it == progress_.end()) return;  // a request already answered
    *token = nlohmann::json::parse(it->second.client_token);
    it->second.relay->push(api::jsonrpc::request_message({}, method, params.dump()));
    return;
  }
  if (method == "notifications/tools/list_changed") {
    list_changed(ListKind::tools);
  } else if (method == "notifications/prompts/list_changed") {
    list_changed(ListKind::prompts);
  } else if (method == "notifications/resources/list_changed") {
    list_changed(ListKind::resources);
    list_changed(ListKind::resource_templates);
  } else if (relay) {
    relay->push(std::string(raw));
    return;
  }
  if (listener_) listener_(config_.name, notification, raw);
}

Awaitable<bool> ServerLink::wait_ready(Clock::time_point deadline) {
  while (!info_ && !stopped_ && Clock::now() < deadline) {
    Timer t(executor_, deadline);
    ready_waiters_.push_back(&t);
    co_await t.async_wait(as_result);
    std::erase(ready_waiters_, &t);
  }
  co_return info_.has_value();
}

Awaitable<bool> ServerLink::ready_within(Millis timeout) {
  const auto self = shared_from_this();
  co_return co_await wait_ready(Clock::now() + timeout);
}

Awaitable<Reply> ServerLink::request(std::string_view method, std::string_view params,
                                     Millis timeout, Relay* relay) {
  const auto self = shared_from_this();  // a reload may drop the hub's reference meanwhile
  const auto deadline = Clock::now() + timeout;
  const bool ready = co_await wait_ready(deadline);
  if (!ready) co_return Reply{Reply::Status::unavailable, name() + " is not ready"};
  // A server whose one session serves every client keeps sending updates of a resource while
  // any session here subscribes to it.
  if (method == "resources/unsubscribe" && !per_client(relay) && subscribed_) {
    const auto json = nlohmann::json::parse(params.empty() ? "{}" : params, nullptr, false);
    if (subscribed_(config_.name, string_member(json, "uri")))
      co_return Reply{Reply::Status::result, "{}"};
  }
  // A client's request carries its trace context in _meta too (where OpenTelemetry's MCP
  // conventions put it: a stdio server has no headers), unless the client put its own there; its
  // progress token is swapped for one of the gateway's while the server has it.
  std::string token;
  std::string sent;
  if (relay) {
    auto json =
        params.empty() ? nlohmann::json::object() : nlohmann::json::parse(params, nullptr, false);
    auto meta = json.is_object() ? json.find("_meta") : json.end();
    if (json.is_object() && meta == json.end())
      meta = json.emplace("_meta", nlohmann::json::object()).first;
    if (meta != json.end() && meta->is_object()) {
      if (!relay->traceparent.empty() && !meta->contains("traceparent"))
        (*meta)["traceparent"] = relay->traceparent;
      if (const auto client = meta->find("progressToken"); client != meta->end()) {
        token = "switchyard-" + std::to_string(++next_token_);
        progress_.emplace(token, Progress{relay, client->dump()});
        *client = token;
      }
      sent = json.dump();
    }
  }
  if (relay) relays_.push_back(relay);
  Reply reply = co_await send(method, sent.empty() ? params : sent, left_until(deadline), relay);
  if (relay) relays_.erase(std::find(relays_.begin(), relays_.end(), relay));
  if (!token.empty()) progress_.erase(token);
  co_return reply;
}

Awaitable<Reply> ServerLink::list(ListKind kind, Millis timeout) {
  const auto self = shared_from_this();
  const auto i = std::size_t(kind);
  if (lists_[i]) co_return Reply{Reply::Status::result, *lists_[i]};
  const auto deadline = Clock::now() + timeout;
  const bool ready = co_await wait_ready(deadline);
  if (!ready) co_return Reply{Reply::Status::unavailable, name() + " is not ready"};
  const ListSpec& spec = list_spec(kind);
  if (!has_capability(*info_, spec.capability)) co_return Reply{Reply::Status::result, "[]"};
  const std::uint64_t version = list_versions_[i];
  auto items = nlohmann::json::array();
  std::string cursor;
  for (int page = 0; page < kMaxPages; ++page) {
    const std::string params =
        cursor.empty() ? std::string() : nlohmann::json{{"cursor", cursor}}.dump();
    Reply reply = co_await send(spec.method, params, left_until(deadline), nullptr);
    if (!reply.ok()) co_return reply;
    const auto result = nlohmann::json::parse(reply.body, nullptr, false);
    const auto field = result.is_object() ? result.find(spec.field) : result.end();
    if (field == result.end() || !field->is_array())
      co_return Reply{Reply::Status::unavailable,
                      name() + " answered " + std::string(spec.method) + " without a list"};
    for (auto& item : *field) items.push_back(std::move(item));
    const auto next = result.find("nextCursor");
    if (next == result.end() || !next->is_string()) {
      std::string whole = items.dump();
      // Kept only if the server did not say meanwhile that the list changed.
      if (list_versions_[i] == version) lists_[i] = whole;
      co_return Reply{Reply::Status::result, std::move(whole)};
    }
    cursor = next->get<std::string>();
  }
  co_return Reply{Reply::Status::unavailable, name() + " paged " + std::string(spec.method) +
                                                  " past " + std::to_string(kMaxPages) + " pages"};
}

void ServerLink::watch_health(Millis interval, Millis timeout) {
  ping_interval_ = interval;
  ping_timeout_ = timeout;
  if (ping_timer_) {
    ping_timer_->cancel();  // the loop picks up the new pace
    return;
  }
  if (interval.count() <= 0) return;
  ping_timer_ = std::make_unique<Timer>(executor_);
  asio::co_spawn(
      executor_,
      [](std::shared_ptr<ServerLink> self) -> Awaitable<void> {
        while (!self->stopped_ && self->ping_interval_.count() > 0) {
          self->ping_timer_->expires_after(self->ping_interval_);
          co_await self->ping_timer_->async_wait(as_result);
          if (self->stopped_ || !self->info_) continue;
          const Reply reply = co_await self->send("ping", {}, self->ping_timeout_, nullptr);
          if (reply.ok()) {
            self->missed_pings_ = 0;
            continue;
          }
          ++self->missed_pings_;
          telemetry::log_event(telemetry::Level::warn, "mcp_server_unhealthy",
                               self->name() + " missed a ping: " + reply.body);
          if (self->missed_pings_ >= kPingsMissedToStartOver) {
            self->missed_pings_ = 0;
            self->start_over();
          }
        }
        self->ping_timer_.reset();
      }(shared_from_this()),
      asio::detached);
}

std::shared_ptr<ServerLink> make_server_link(Executor executor, const config::McpServer& config) {
  switch (config.transport) {
    case config::McpServer::Transport::http:
      return make_http_link(executor, config);
    case config::McpServer::Transport::sse:
      return make_sse_link(executor, config);
    case config::McpServer::Transport::stdio:
      break;
  }
  return make_stdio_link(executor, config);
}

}  // namespace switchyard::mcp
