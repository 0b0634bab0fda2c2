#include "models.hpp"

#include "switchyard/config/config.hpp"
#include "switchyard/routing/route_table.hpp"

namespace switchyard::handlers {

Awaitable<void> Models::handle(request::Context& request) {
  const auto* key = request.key;
  if (key && !key->routes.empty()) {
    const std::string only = services_.routes.models_json(key->routes, request.dialect);
    co_await request.response().send(200, "application/json", only);
    co_return;
  }
  co_await request.response().send(200, "application/json",
                                   services_.routes.models_json(request.dialect));
}

}  // namespace switchyard::handlers
