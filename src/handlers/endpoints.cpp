// The endpoint table: every path the gateway serves, who may call it, and its handler. A new
// endpoint family is a folder beside this file plus a row here.
#include "admin/admin.hpp"
#include "chat/chat.hpp"
#include "embeddings/embeddings.hpp"
#include "mcp/mcp.hpp"
#include "messages/messages.hpp"
#include "metrics/metrics.hpp"
#include "models/models.hpp"
#include "probes/probes.hpp"
#include "switchyard/config/config.hpp"
#include "switchyard/handlers/handler.hpp"

namespace switchyard::handlers {

std::vector<Endpoint> make_endpoints(Services& services) {
  using View = AdminView::What;
  std::vector<Endpoint> table;
  auto add = [&](std::string_view path, std::string_view short_path, unsigned methods,
                 Access access, std::string_view name, bool quiet, std::unique_ptr<Handler> h) {
    table.push_back({path, short_path, methods, access, name, quiet, std::move(h)});
  };
  auto view = [&](std::string_view path, View what) {
    add(path, {}, kGet, Access::admin, AdminView::kName, false,
        std::make_unique<AdminView>(services, what));
  };
  // path, without /v1, methods, access, metrics name, quiet, handler
  add("/v1/chat/completions", "/chat/completions", kPost, Access::key, Chat::kName, false,
      std::make_unique<Chat>(services));
  add("/v1/embeddings", "/embeddings", kPost, Access::key, Embeddings::kName, false,
      std::make_unique<Embeddings>(services));
  add("/v1/messages", "/messages", kPost, Access::key, Messages::kName, false,
      std::make_unique<Messages>(services));
  table.back().speaks = Endpoint::Speaks::anthropic;
  add("/v1/messages/count_tokens", "/messages/count_tokens", kPost, Access::key, CountTokens::kName,
      false, std::make_unique<CountTokens>(services));
  table.back().speaks = Endpoint::Speaks::anthropic;
  add("/v1/models", "/models", kGet, Access::key, Models::kName, false,
      std::make_unique<Models>(services));
  table.back().speaks = Endpoint::Speaks::both;
  if (services.config.mcp.enabled && services.mcp) {
    add("/mcp", {}, kGet | kPost | kDelete, Access::key, Mcp::kName, false,
        std::make_unique<Mcp>(services));
    table.back().subpaths = true;  // /mcp/<server>
    add("/admin/mcp", {}, kGet, Access::admin, McpStatus::kName, false,
        std::make_unique<McpStatus>(services));
  }
  add("/healthz", {}, kAnyMethod, Access::open, Liveness::kName, true,
      std::make_unique<Liveness>());
  add("/readyz", {}, kAnyMethod, Access::open, Readiness::kName, true,
      std::make_unique<Readiness>(services));
  if (services.config.metrics.enabled)
    add("/metrics", {}, kGet, Access::open, Metrics::kName, true,
        std::make_unique<Metrics>(services));
  view("/admin/health", View::health);
  view("/admin/config", View::config);
  view("/admin/routes", View::routes);
  view("/admin/spend", View::spend);
  view("/admin/cache", View::cache);
  add("/admin/explain", {}, kPost, Access::admin, Explain::kName, false,
      std::make_unique<Explain>(services));
  add("/admin/reload", {}, kGet | kPost, Access::admin, Reload::kName, false,
      std::make_unique<Reload>(services));
  return table;
}

}  // namespace switchyard::handlers
