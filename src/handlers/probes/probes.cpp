#include "probes.hpp"

#include "switchyard/dispatch/health_board.hpp"

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
  const std::string body = services_.board.readiness_json();
  const int status = services_.board.any_provider_healthy() ? 200 : 503;
  co_await request.response().send(status, "application/json", body);
}

}  // namespace switchyard::handlers
