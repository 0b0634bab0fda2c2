#include "switchyard/mcp/federation.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <charconv>
#include <nlohmann/json.hpp>

#include "json_fields.hpp"
#include "switchyard/api/jsonrpc.hpp"
#include "switchyard/mcp/access.hpp"
#include "switchyard/mcp/server_link.hpp"
#include "switchyard/telemetry/request_log.hpp"

namespace switchyard::mcp {
namespace {

using api::jsonrpc::error_response;
using api::jsonrpc::kInvalidParams;
using api::jsonrpc::kMethodNotFound;
using api::jsonrpc::result_response;
using Json = nlohmann::json;
using Servers = std::vector<std::shared_ptr<ServerLink>>;

constexpr std::string_view kSeparator = "__";
// MCP's "resource not found" (server/resources).
constexpr int kResourceNotFound = -32002;

constexpr std::array<std::string_view, 11> kForwarded{
    "tools/list",          "tools/call",          "prompts/list",
    "prompts/get",         "resources/list",      "resources/templates/list",
    "resources/read",      "resources/subscribe", "resources/unsubscribe",
    "completion/complete", "logging/setLevel",
};

// What the gateway offers at /mcp, whatever its servers offer today: a client that learns of a
// capability only later (a server added by a reload) would never ask for it otherwise.
constexpr std::string_view kCapabilities =
    R"({"tools":{"listChanged":true},"prompts":{"listChanged":true},)"
    R"("resources":{"subscribe":true,"listChanged":true},"logging":{},"completions":{}})";

Json params_of(const ClientRequest& r) {
  if (r.params.empty()) return Json::object();
  return Json::parse(r.params, nullptr, false);
}

// Every server's list at once; a slot stays unavailable when its server did not answer in time.
// How long each took goes to `relay` (the request's spans).
Awaitable<std::vector<Reply>> gather(const Servers& servers, ListKind kind, config::Millis timeout,
                                     Relay* relay) {
  std::vector<Reply> replies(servers.size());
  // Named: a lambda made in the co_await would be a temporary GCC 12 destroys twice.
  std::function<Awaitable<void>(std::size_t)> ask = [&](std::size_t i) -> Awaitable<void> {
    const auto server = servers[i];
    const auto start = std::chrono::steady_clock::now();
    replies[i] = co_await server->list(kind, timeout);
    if (relay) {
      const auto took = std::chrono::duration_cast<std::chrono::microseconds>(
          std::chrono::steady_clock::now() - start);
      relay->waited({server->config().name, start, took, replies[i].ok()});
    }
  };
  co_await each_at_once(servers.size(), std::move(ask));
  co_return replies;
}

}  // namespace

Awaitable<void> each_at_once(std::size_t n, std::function<Awaitable<void>(std::size_t)> each) {
  std::size_t left = n;
  Timer all_in(co_await asio::this_coro::executor, Timer::time_point::max());
  for (std::size_t i = 0; i < n; ++i) {
    asio::co_spawn(
        all_in.get_executor(),
        [&, i]() -> Awaitable<void> {
          co_await each(i);
          if (--left == 0) all_in.cancel();
        },
        asio::detached);
  }
  if (left > 0) co_await all_in.async_wait(as_result);
}

std::shared_ptr<ServerLink> find_server(const std::vector<std::shared_ptr<ServerLink>>& servers,
                                        std::string_view name) {
  for (const auto& s : servers)
    if (s->config().name == name) return s;
  return nullptr;
}

bool is_forwarded(std::string_view method) {
  return std::find(kForwarded.begin(), kForwarded.end(), method) != kForwarded.end();
}

std::string prefixed_name(std::string_view server, std::string_view name) {
  std::string out(server);
  out += kSeparator;
  out += name;
  return out;
}

std::optional<SplitName> split_name(std::string_view prefixed) {
  const auto at = prefixed.find(kSeparator);
  if (at == std::string_view::npos || at == 0 || at + kSeparator.size() == prefixed.size())
    return std::nullopt;
  return SplitName{prefixed.substr(0, at), prefixed.substr(at + kSeparator.size())};
}

namespace {

struct Aggregate {
  const Servers& servers;
  const config::Mcp& config;
  const ClientRequest& r;

  std::shared_ptr<ServerLink> find(std::string_view name) const {
    return find_server(servers, name);
  }

  std::string initialize() const {
    Json result = {
        {"protocolVersion", r.version},
        {"capabilities", Json::parse(kCapabilities)},
        {"serverInfo", {{"name", "switchyard"}, {"version", SWITCHYARD_VERSION}}},
        {"instructions",
         "The tools and prompts of several MCP servers, each named <server>__<name>."},
    };
    return result_response(r.id, result.dump());
  }

  Awaitable<std::string> merged_list(const ListSpec& spec) const {
    const Json params = params_of(r);
    std::size_t offset = 0;
    if (const std::string cursor = string_member(params, "cursor"); !cursor.empty()) {
      const auto [end, ec] = std::from_chars(cursor.data(), cursor.data() + cursor.size(), offset);
      if (ec != std::errc() || end != cursor.data() + cursor.size())
        co_return error_response(r.id, kInvalidParams, "Invalid params: unknown cursor");
    }
    const auto replies = co_await gather(servers, spec.kind, config.list_timeout, r.relay.get());
    Json items = Json::array();
    for (std::size_t i = 0; i < servers.size(); ++i) {
      const std::string& name = servers[i]->config().name;
      if (!replies[i].ok()) {
        telemetry::log_event(
            telemetry::Level::warn, "mcp_list_partial",
            std::string(spec.method) + " left out server " + name + ": " + replies[i].body);
        continue;
      }
      for (Json& item : Json::parse(replies[i].body, nullptr, false)) {
        const std::string own = string_member(item, "name");
        if (spec.kind == ListKind::tools && !may_call_tool(r.access, name, own)) continue;
        if (spec.prefixed && !own.empty()) item["name"] = prefixed_name(name, own);
        items.push_back(std::move(item));
      }
    }
    if (offset > items.size())
      co_return error_response(r.id, kInvalidParams, "Invalid params: unknown cursor");
    const std::size_t end = std::min(items.size(), offset + config.page_size);
    Json result = {{spec.field, Json(items.begin() + std::ptrdiff_t(offset),
                                     items.begin() + std::ptrdiff_t(end))}};
    if (end < items.size()) result["nextCursor"] = std::to_string(end);
    co_return result_response(r.id, result.dump());
  }

  // tools/call and prompts/get: the server named in the prefix, under its own name for the tool.
  Awaitable<std::string> by_name() const {
    Json params = params_of(r);
    const std::string name = string_member(params, "name");
    const auto split = split_name(name);
    const auto server = split ? find(split->server) : nullptr;
    if (!server) {
      co_return error_response(r.id, kInvalidParams,
                               "Invalid params: no tool or prompt named " + Json(name).dump());
    }
    if (r.method == "tools/call" && !may_call_tool(r.access, split->server, split->name))
      co_return tool_refusal(r.id, name);
    params["name"] = std::string(split->name);
    co_return answer_with(r.id, co_await server->request(r.method, params.dump(),
                                                         server->config().timeout, r.relay.get()));
  }

  // The server whose resources or templates hold `uri`.
  Awaitable<std::shared_ptr<ServerLink>> owner_of(const std::string& uri) const {
    for (ListKind kind : {ListKind::resources, ListKind::resource_templates}) {
      const auto replies = co_await gather(servers, kind, config.list_timeout, r.relay.get());
      for (std::size_t i = 0; i < servers.size(); ++i) {
        if (!replies[i].ok()) continue;
        for (const Json& item : Json::parse(replies[i].body, nullptr, false)) {
          if (kind == ListKind::resources && string_member(item, "uri") == uri)
            co_return servers[i];
          // A template matches by what comes before its first variable.
          const std::string tmpl = string_member(item, "uriTemplate");
          const std::string fixed = tmpl.substr(0, tmpl.find('{'));
          if (kind == ListKind::resource_templates && !fixed.empty() && uri.starts_with(fixed))
            co_return servers[i];
        }
      }
    }
    co_return nullptr;
  }

  Awaitable<std::string> by_uri(const std::string& uri, std::string params) const {
    const auto server = co_await owner_of(uri);
    if (!server) co_return error_response(r.id, kResourceNotFound, "Resource not found: " + uri);
    co_return answer_with(
        r.id, co_await server->request(r.method, params, server->config().timeout, r.relay.get()));
  }

  Awaitable<std::string> complete() const {
    Json params = params_of(r);
    const auto ref = params.find("ref");
    if (ref == params.end() || !ref->is_object())
      co_return error_response(r.id, kInvalidParams, "Invalid params: completion needs a ref");
    if (string_member(*ref, "type") == "ref/resource")
      co_return co_await by_uri(string_member(*ref, "uri"), r.params);
    const std::string name = string_member(*ref, "name");
    const auto split = split_name(name);
    const auto server = split ? find(split->server) : nullptr;
    if (!server)
      co_return error_response(r.id, kInvalidParams,
                               "Invalid params: no prompt named " + Json(name).dump());
    (*ref)["name"] = std::string(split->name);
    co_return answer_with(r.id, co_await server->request(r.method, params.dump(),
                                                         server->config().timeout, r.relay.get()));
  }

  // Every server that logs gets the level; the answer is the first refusal, if any.
  Awaitable<std::string> set_level() const {
    for (const auto& server : servers) {
      const ServerInfo* info = server->info();
      if (!info || !has_capability(*info, "logging")) continue;
      const Reply reply =
          co_await server->request(r.method, r.params, config.list_timeout, r.relay.get());
      if (reply.status == Reply::Status::error) co_return answer_with(r.id, reply);
    }
    co_return result_response(r.id, "{}");
  }
};

}  // namespace

Awaitable<std::string> Federation::answer(const ClientRequest& r) {
  // The key sees only its servers, as if there were no others.
  Servers visible;
  for (const auto& s : servers)
    if (r.access.may_use_server(s->config().name)) visible.push_back(s);
  const Aggregate aggregate{visible, config, r};
  if (r.method == "initialize") co_return aggregate.initialize();
  if (const ListSpec* spec = find_list(r.method)) co_return co_await aggregate.merged_list(*spec);
  if (r.method == "tools/call" || r.method == "prompts/get") co_return co_await aggregate.by_name();
  if (r.method == "resources/read" || r.method == "resources/subscribe" ||
      r.method == "resources/unsubscribe")
    co_return co_await aggregate.by_uri(string_member(params_of(r), "uri"), r.params);
  if (r.method == "completion/complete") co_return co_await aggregate.complete();
  if (r.method == "logging/setLevel") co_return co_await aggregate.set_level();
  co_return error_response(r.id, kMethodNotFound, "Method not found: " + r.method);
}

}  // namespace switchyard::mcp
