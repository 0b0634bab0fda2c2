// POST /admin/reload and GET /admin/reload (see admin.hpp).
#include "admin.hpp"

namespace switchyard::handlers {

Awaitable<void> Reload::handle(request::Context& request) {
  if (request.http.method() == boost::beast::http::verb::get) {
    co_await request.response().send(200, "application/json", services_.control.reload_status());
    co_return;
  }
  const Control::Outcome outcome = co_await services_.control.reload();
  co_await request.response().send(outcome.ok ? 200 : 422, "application/json", outcome.json);
}

}  // namespace switchyard::handlers
