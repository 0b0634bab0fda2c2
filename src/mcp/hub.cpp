#include "switchyard/mcp/hub.hpp"

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <unordered_map>
#include <vector>

#include "json_fields.hpp"
#include "switchyard/api/jsonrpc.hpp"
#include "switchyard/mcp/access.hpp"
#include "switchyard/mcp/active_sessions.hpp"
#include "switchyard/mcp/federation.hpp"
#include "switchyard/mcp/server_link.hpp"
#include "switchyard/mcp/shared_streams.hpp"
#include "switchyard/redis/client.hpp"
#include "switchyard/redis/settings.hpp"
#include "switchyard/telemetry/metrics.hpp"
#include "switchyard/telemetry/request_log.hpp"

namespace switchyard::mcp {
namespace {

using api::jsonrpc::error_response;
using api::jsonrpc::kInvalidParams;
using api::jsonrpc::kMethodNotFound;
using api::jsonrpc::result_response;
using Json = nlohmann::json;

// A tools/list result with only the tools `access` may call.
std::string permitted_tools(const std::string& result, const config::McpAccess& access,
                            const std::string& server) {
  if (access.allow_tools.empty() && access.deny_tools.empty()) return result;
  Json json = Json::parse(result, nullptr, false);
  const auto tools = json.is_object() ? json.find("tools") : json.end();
  if (tools == json.end() || !tools->is_array()) return result;
  Json kept = Json::array();
  for (Json& tool : *tools) {
    const std::string name = string_member(tool, "name");
    if (may_call_tool(access, server, name)) kept.push_back(std::move(tool));
  }
  *tools = std::move(kept);
  return json.dump();
}

// /admin/mcp lists at most this many sessions (the latest), and counts them all.
constexpr std::size_t kSessionsListed = 1'000;

}  // namespace

struct Hub::Inner {
  std::mutex limits_mutex;
  std::unordered_map<std::string, std::shared_ptr<state::RateLimiter>> rate_limiters;
  std::unordered_map<std::string, std::shared_ptr<std::atomic<std::uint32_t>>> in_flight;
  std::mutex tracked_mutex;
  std::unordered_map<std::string, std::weak_ptr<Relay>> tracked;
  std::unordered_map<std::string, std::function<void(Reply)>> awaited;  // guarded by tracked_mutex
  mutable std::mutex ended_mutex;
  std::unordered_map<std::string, std::chrono::system_clock::time_point> ended;
  SessionStreams streams;
  ActiveSessions active;
  asio::io_context io{1};
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  std::thread thread;
  // With `redis:`: where the events of streams open here go for the other replicas (on io).
  std::unique_ptr<redis::Client> redis;
  std::optional<SharedStreamNames> shared;
  // The sessions whose streams are open here, for servers that start meanwhile (a reload).
  struct Listening {
    std::string view;
    config::McpAccess access;
    std::map<std::string, std::string> carried;
    unsigned streams = 0;
  };
  std::unordered_map<std::string, Listening> listening;
  // With `redis:`: where the sessions client sessions opened with servers are kept.
  std::shared_ptr<const KeptSessions> kept_sessions;
  config::Mcp config;
  // In configuration order: the order of the merged lists.
  std::vector<std::shared_ptr<ServerLink>> servers;
  // The same, for other threads (health): set by apply() under health_mutex.
  mutable std::mutex health_mutex;
  std::vector<std::shared_ptr<ServerLink>> watched;

  std::shared_ptr<ServerLink> find(std::string_view name) const {
    return find_server(servers, name);
  }

  void apply(const config::Mcp& next) {
    std::vector<std::shared_ptr<ServerLink>> kept;
    // `enabled: false` serves no MCP at all: no server runs either.
    const std::vector<config::McpServer> none;
    for (const config::McpServer& wanted : next.enabled ? next.servers : none) {
      auto existing = find(wanted.name);
      if (existing && existing->config() == wanted) {
        kept.push_back(std::move(existing));
        continue;
      }
      auto server = make_server_link(io.get_executor(), wanted);
      server->set_listener(
          [this](std::string_view name, const api::jsonrpc::Message& notification,
                 std::string_view raw) { streams.publish(name, notification, raw); });
      server->keep_sessions_with(kept_sessions);
      server->set_client_listener([this](const std::string& nonce, std::string_view raw) {
        streams.publish_to(nonce, raw);
      });
      server->set_subscribed([this](std::string_view name, const std::string& uri) {
        return streams.subscribed(name, uri);
      });
      server->start();
      for (const auto& [nonce, l] : listening)
        if (in_view(l.view, l.access, wanted.name))
          for (unsigned i = 0; i < l.streams; ++i) server->listen_for_client(nonce, l.carried);
      kept.push_back(std::move(server));
    }
    for (const auto& server : kept) server->watch_health(next.ping_interval, next.ping_timeout);
    for (const auto& old : servers)
      if (std::find(kept.begin(), kept.end(), old) == kept.end()) old->stop();
    servers = std::move(kept);
    config = next;
    std::lock_guard lock(health_mutex);
    watched = servers;
  }

  Federation federation() { return Federation{servers, config}; }

  Awaitable<std::string> serve_owned(ClientRequest r) { co_return co_await serve(r); }

  Awaitable<std::map<std::string, std::string>> open_sessions(std::string view,
                                                              config::McpAccess access,
                                                              std::string nonce) {
    std::vector<std::shared_ptr<ServerLink>> chosen;
    for (const auto& server : servers) {
      const std::string& name = server->config().name;
      if (in_view(view, access, name)) chosen.push_back(server);
    }
    std::vector<std::optional<std::string>> ids(chosen.size());
    const config::Millis timeout = config.list_timeout;
    std::function<Awaitable<void>(std::size_t)> open = [&](std::size_t i) -> Awaitable<void> {
      const auto server = chosen[i];
      ids[i] = co_await server->open_client_session(nonce, timeout);
    };
    co_await each_at_once(chosen.size(), std::move(open));
    std::map<std::string, std::string> out;
    for (std::size_t i = 0; i < chosen.size(); ++i)
      if (ids[i]) out.emplace(chosen[i]->config().name, std::move(*ids[i]));
    co_return out;
  }

  // `method` for `uri` on behalf of the session `owner`, the answer dropped: the servers'
  // subscriptions follow sessions whose streams move between replicas.
  void send_for(const std::string& nonce, const StreamOwner& owner, const std::string& method,
                const std::string& uri) {
    ClientRequest r{owner.view, "0", method, Json{{"uri", uri}}.dump(), "", nonce, owner.access};
    asio::co_spawn(io, serve_owned(std::move(r)), asio::detached);
  }

  Awaitable<std::string> describe() {
    Json out = {{"servers", Json::array()}};
    const auto listed = servers;  // a reload may change `servers` while this waits
    for (const auto& server : listed) {
      const config::McpServer& c = server->config();
      Json entry = {{"name", c.name},
                    {"transport", std::array{"stdio", "http", "sse"}[std::size_t(c.transport)]},
                    {"ready", server->info() != nullptr},
                    {"missed_pings", server->missed_pings()}};
      if (const ServerInfo* info = server->info()) {
        entry["protocol_version"] = info->protocol_version;
        entry["server_info"] = Json::parse(info->server_info);
      }
      for (const ListSpec& spec : kLists) {
        const Reply reply = co_await server->list(spec.kind, config.list_timeout);
        entry[std::string(spec.field)] =
            reply.ok() ? Json(Json::parse(reply.body).size()) : Json(nullptr);
      }
      out["servers"].push_back(std::move(entry));
    }
    {
      std::lock_guard lock(ended_mutex);
      out["sessions_ended_here"] = ended.size();
    }
    {
      std::lock_guard lock(tracked_mutex);
      out["requests_in_flight"] = tracked.size();
      out["server_requests_awaiting_clients"] = awaited.size();
    }
    out["streams_open"] = streams.open_streams();
    out["sessions"] = Json::array();
    const auto now = std::chrono::steady_clock::now();
    const std::vector<ActiveSession> sessions = active.list(now);
    out["sessions_active"] = sessions.size();
    for (const ActiveSession& a : sessions) {
      if (out["sessions"].size() == kSessionsListed) break;
      const Session& s = a.session;
      out["sessions"].push_back(
          {{"session", s.nonce},
           {"key", s.key},
           {"server", s.server},
           {"protocol_version", s.version},
           {"issued", s.issued},
           {"idle_seconds", std::chrono::duration_cast<std::chrono::seconds>(now - a.last).count()},
           {"requests", a.requests},
           {"stream_open", streams.streaming(s.nonce)}});
    }
    co_return out.dump();
  }

  Awaitable<std::string> serve(const ClientRequest& r) {
    if (r.method == "ping") co_return result_response(r.id, "{}");
    if (r.method == "resources/subscribe" || r.method == "resources/unsubscribe") {
      // For servers whose one session serves every client, the gateway keeps who subscribed to
      // what (ServerLink::set_subscribed).
      const std::string uri =
          string_member(Json::parse(r.params.empty() ? "{}" : r.params, nullptr, false), "uri");
      if (r.method == "resources/subscribe")
        streams.subscribe({r.session, r.server, r.access}, uri);
      else
        streams.unsubscribe(r.session, uri);
    }
    if (r.server.empty()) co_return co_await federation().answer(r);
    const auto server = find(r.server);
    if (!server) co_return error_response(r.id, kInvalidParams, "no MCP server named " + r.server);
    if (r.method == "initialize") {
      // The server presents itself; the version is the one agreed with this client.
      const bool ready = co_await server->ready_within(config.list_timeout);
      const ServerInfo* info = server->info();
      if (!ready || !info)
        co_return answer_with(
            r.id, Reply{Reply::Status::unavailable, "mcp server " + r.server + " is not ready"});
      Json result = {{"protocolVersion", r.version},
                     {"capabilities", Json::parse(info->capabilities)},
                     {"serverInfo", Json::parse(info->server_info)}};
      if (!info->instructions.empty()) result["instructions"] = Json::parse(info->instructions);
      co_return result_response(r.id, result.dump());
    }
    if (!is_forwarded(r.method))
      co_return error_response(r.id, kMethodNotFound, "Method not found: " + r.method);
    const std::string& name = server->config().name;
    if (r.method == "tools/call") {
      const auto params = Json::parse(r.params.empty() ? "{}" : r.params, nullptr, false);
      const std::string tool = string_member(params, "name");
      if (!may_call_tool(r.access, name, tool)) co_return tool_refusal(r.id, tool);
    }
    Reply reply =
        co_await server->request(r.method, r.params, server->config().timeout, r.relay.get());
    if (r.method == "tools/list" && reply.ok())
      reply.body = permitted_tools(reply.body, r.access, name);
    co_return answer_with(r.id, reply);
  }
};

Hub::Hub() : inner_(std::make_unique<Inner>()) {}

Hub::~Hub() {
  stop();
}

void Hub::start(const config::Mcp& config, const std::optional<config::Redis>& redis) {
  if (redis) {
    Inner& inner = *inner_;
    auto settings = *redis::Settings::of(*redis);  // checked at load
    inner.redis = std::make_unique<redis::Client>(inner.io.get_executor(), std::move(settings.url),
                                                  settings.options);
    inner.shared.emplace(redis->prefix);
    inner.streams.keep_with([&inner](const std::string& nonce, KeptEvent event) {
      asio::co_spawn(inner.io, keep_event(*inner.redis, *inner.shared, nonce, std::move(event)),
                     asio::detached);
    });
    inner.kept_sessions = std::make_shared<KeptSessions>(KeptSessions{
        [&inner](std::string nonce, std::string server) -> Awaitable<std::optional<std::string>> {
          co_return co_await kept_server_session(*inner.redis, *inner.shared, nonce, server);
        },
        [&inner](std::string nonce, std::string server, std::string id) -> Awaitable<void> {
          const auto expiry = std::chrono::duration_cast<std::chrono::seconds>(
              (std::chrono::system_clock::now() + inner.config.session_ttl).time_since_epoch());
          co_await keep_server_session(*inner.redis, *inner.shared, std::move(nonce),
                                       std::move(server), std::move(id), expiry.count());
        }});
    asio::post(inner.io, [&inner] { inner.redis->start(); });
  }
  asio::post(inner_->io, [inner = inner_.get(), config] { inner->apply(config); });
  inner_->thread = std::thread([inner = inner_.get()] { inner->io.run(); });
}

void Hub::configure(const config::Mcp& config) {
  asio::post(inner_->io, [inner = inner_.get(), config] { inner->apply(config); });
}

void Hub::stop() {
  if (!inner_->thread.joinable()) return;
  asio::post(inner_->io, [inner = inner_.get()] {
    for (const auto& s : inner->servers) s->stop();
    inner->servers.clear();
    if (inner->redis) inner->redis->stop();
    inner->work.reset();
    inner->io.stop();
  });
  inner_->thread.join();
}

Awaitable<std::string> Hub::answer(ClientRequest request) {
  // The request moves into the coroutine's own frame, made here and run on the hub's thread. (A
  // capturing lambda in the co_await would be a temporary GCC 12 destroys twice.)
  auto work = inner_->serve_owned(std::move(request));
  co_return co_await asio::co_spawn(inner_->io.get_executor(), std::move(work), use_awaitable);
}

}  // namespace switchyard::mcp

namespace switchyard::mcp {

Awaitable<std::map<std::string, std::string>> Hub::open_sessions(std::string view,
                                                                 config::McpAccess access,
                                                                 std::string nonce) {
  auto work = inner_->open_sessions(std::move(view), std::move(access), std::move(nonce));
  co_return co_await asio::co_spawn(inner_->io.get_executor(), std::move(work), use_awaitable);
}

Awaitable<std::string> Hub::status() {
  auto work = inner_->describe();
  co_return co_await asio::co_spawn(inner_->io.get_executor(), std::move(work), use_awaitable);
}

std::shared_ptr<state::RateLimiter> Hub::rate_limiter(const std::string& name,
                                                      std::uint32_t per_minute) {
  std::lock_guard lock(inner_->limits_mutex);
  auto& limiter = inner_->rate_limiters[name];
  if (!limiter || limiter->limit() != per_minute)
    limiter = std::make_shared<state::RateLimiter>(per_minute);
  return limiter;
}

std::shared_ptr<std::atomic<std::uint32_t>> Hub::in_flight(const std::string& name) {
  std::lock_guard lock(inner_->limits_mutex);
  auto& counter = inner_->in_flight[name];
  if (!counter) counter = std::make_shared<std::atomic<std::uint32_t>>(0);
  return counter;
}

void Hub::track(const std::string& key, const std::shared_ptr<Relay>& relay) {
  std::lock_guard lock(inner_->tracked_mutex);
  inner_->tracked[key] = relay;
}

void Hub::untrack(const std::string& key) {
  std::lock_guard lock(inner_->tracked_mutex);
  inner_->tracked.erase(key);
}

std::vector<Hub::ServerHealth> Hub::health() const {
  std::lock_guard lock(inner_->health_mutex);
  std::vector<ServerHealth> out;
  for (const auto& server : inner_->watched)
    out.push_back({server->config().name, server->up(), server->missed_pings()});
  return out;
}

void Hub::write_metrics(std::string& out) const {
  using telemetry::MetricType;
  const auto servers = health();
  if (servers.empty()) return;  // no MCP here
  telemetry::TextWriter w(out);
  w.family("switchyard_mcp_server_up", "1 while an MCP server is initialized and answering.",
           MetricType::gauge);
  for (const ServerHealth& server : servers)
    w.sample({{"server", server.name}}, std::uint64_t{server.up ? 1u : 0u});
  w.family("switchyard_mcp_sessions_active",
           "MCP sessions that made a request to this process in the last 10 minutes.",
           MetricType::gauge);
  w.sample({}, std::uint64_t{inner_->active.count()});
  w.family("switchyard_mcp_streams_open", "MCP sessions' streams (GET /mcp) open.",
           MetricType::gauge);
  w.sample({}, std::uint64_t{inner_->streams.open_streams()});
  std::lock_guard lock(inner_->tracked_mutex);
  w.family("switchyard_mcp_requests_in_flight", "MCP requests being answered by the servers.",
           MetricType::gauge);
  w.sample({}, std::uint64_t{inner_->tracked.size()});
  w.family("switchyard_mcp_server_requests_awaiting",
           "Servers' requests (sampling, elicitation, roots) relayed to a client, not answered "
           "yet.",
           MetricType::gauge);
  w.sample({}, std::uint64_t{inner_->awaited.size()});
}

SessionStreams& Hub::streams() {
  return inner_->streams;
}

ActiveSessions& Hub::sessions() {
  return inner_->active;
}

void Hub::follow(const std::string& nonce, std::string method, std::vector<std::string> uris) {
  asio::post(inner_->io,
             [inner = inner_.get(), nonce, method = std::move(method), uris = std::move(uris)] {
               const auto owner = inner->streams.home_of(nonce);
               if (!owner)
                 return;  // its stream is elsewhere (or nowhere): that replica's servers follow
               for (const std::string& uri : uris) inner->send_for(nonce, *owner, method, uri);
             });
}

void Hub::listen_for(const std::string& nonce, const std::string& view,
                     const config::McpAccess& access,
                     const std::map<std::string, std::string>& carried) {
  asio::post(inner_->io, [inner = inner_.get(), nonce, view, access, carried] {
    auto& l = inner->listening[nonce];
    l = {view, access, carried, l.streams + 1};
    for (const auto& server : inner->servers) {
      const std::string& name = server->config().name;
      if (in_view(view, access, name)) server->listen_for_client(nonce, carried);
    }
  });
}

void Hub::stop_listening_for(const std::string& nonce) {
  asio::post(inner_->io, [inner = inner_.get(), nonce] {
    const auto it = inner->listening.find(nonce);
    if (it != inner->listening.end() && --it->second.streams == 0) inner->listening.erase(it);
    for (const auto& server : inner->servers) server->stop_listening_for_client(nonce);
  });
}

void Hub::stream_moved(const std::string& nonce) {
  asio::post(inner_->io, [inner = inner_.get(), nonce] {
    auto gone = inner->streams.moved(nonce);
    if (!gone) return;
    // A server whose one session serves every client is unsubscribed only when no other
    // session here still subscribes (ServerLink::request); an HTTP server keeps the session's
    // subscriptions in the session's own session with it (nothing to do here).
    for (const std::string& uri : gone->second)
      inner->send_for(nonce, gone->first, "resources/unsubscribe", uri);
  });
}

void Hub::await_answer(const std::string& key, std::function<void(Reply)> answer) {
  std::lock_guard lock(inner_->tracked_mutex);
  inner_->awaited[key] = std::move(answer);
}

bool Hub::answered(const std::string& key, Reply reply) {
  std::function<void(Reply)> answer;
  {
    std::lock_guard lock(inner_->tracked_mutex);
    const auto it = inner_->awaited.find(key);
    if (it == inner_->awaited.end()) return false;
    answer = std::move(it->second);
    inner_->awaited.erase(it);
  }
  answer(std::move(reply));
  return true;
}

void Hub::abandon_answer(const std::string& key, std::string why) {
  answered(key, Reply{Reply::Status::unavailable, std::move(why)});
}

void Hub::cancel(const std::string& key) {
  std::shared_ptr<Relay> relay;
  {
    std::lock_guard lock(inner_->tracked_mutex);
    if (const auto it = inner_->tracked.find(key); it != inner_->tracked.end())
      relay = it->second.lock();
  }
  if (relay) cancel(relay);
}

void Hub::cancel(const std::shared_ptr<Relay>& relay) {
  // on_cancel belongs to the hub's thread, like the request it stops.
  asio::post(inner_->io, [relay] {
    if (relay->on_cancel) relay->on_cancel();
  });
}

void Hub::end_session(const std::string& nonce, std::chrono::system_clock::time_point expiry,
                      const std::map<std::string, std::string>& carried) {
  asio::post(inner_->io, [inner = inner_.get(), nonce, carried] {
    for (const auto& server : inner->servers) server->end_client_session(nonce, carried);
  });
  inner_->streams.forget(nonce);
  inner_->active.ended(nonce);
  const auto now = std::chrono::system_clock::now();
  std::lock_guard lock(inner_->ended_mutex);
  std::erase_if(inner_->ended, [now](const auto& e) { return e.second < now; });
  inner_->ended.emplace(nonce, expiry);
}

bool Hub::session_ended(const std::string& nonce) const {
  std::lock_guard lock(inner_->ended_mutex);
  return inner_->ended.contains(nonce);
}

}  // namespace switchyard::mcp
