#include "probes.hpp"

#include <nlohmann/json.hpp>

#include "switchyard/config/config.hpp"
#include "switchyard/dispatch/health_board.hpp"
#include "switchyard/mcp/hub.hpp"

namespace switchyard::handlers {

Awaitable<void> Liveness::handle(request::Context& request) {
  co_await request.response().send(200, "application/json", R"({"status":"ok"})");
}

Awaitable<void> Readiness::handle(request::Context& request) {
  if (services_.draining) {
    co_await request.response().send(503, "application/json", R"({"status":"draining"})");
    co_return;
  }
  // Not ready while every provider fails its health check: a load balancer should send the
  // traffic to a replica that can serve it.
  int status = services_.board.any_provider_healthy() ? 200 : 503;
  const config::Mcp& mcp = services_.config.mcp;
  if (!services_.mcp || !mcp.enabled || mcp.servers.empty()) {
    co_await request.response().send(status, "application/json", services_.board.readiness_json());
    co_return;
  }
  // The MCP servers as `mcp.readiness` has them count.
  auto body = nlohmann::json::parse(services_.board.readiness_json());
  std::size_t up = 0;
  nlohmann::json servers = nlohmann::json::object();
  const auto health = services_.mcp->health();
  for (const auto& server : health) {
    up += server.up;
    servers[server.name] = server.up ? "up" : "down";
  }
  body["mcp_servers"] = std::move(servers);
  const bool mcp_ready = mcp.readiness == config::Mcp::Readiness::ignore ||
                         (mcp.readiness == config::Mcp::Readiness::any && up > 0) ||
                         (mcp.readiness == config::Mcp::Readiness::all && up == health.size());
  if (!mcp_ready && status == 200) {
    status = 503;
    body["status"] = "mcp_servers_down";
  }
  co_await request.response().send(status, "application/json", body.dump());
}

}  // namespace switchyard::handlers
