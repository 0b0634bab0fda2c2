#include "switchyard/mcp/server_link.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "links.hpp"
#include "switchyard/api/jsonrpc.hpp"

namespace switchyard::mcp {
namespace {

using Clock = std::chrono::steady_clock;
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
  set_ready(std::nullopt);
}

std::string ServerLink::initialize_params() {
  // The gateway asks nothing of its servers (no sampling, roots or elicitation of its own).
  const nlohmann::json params = {
      {"protocolVersion", std::string(kLatestVersion)},
      {"capabilities", nlohmann::json::object()},
      {"clientInfo", {{"name", "switchyard"}, {"version", SWITCHYARD_VERSION}}},
  };
  return params.dump();
}

std::string ServerLink::answer_server_request(const api::jsonrpc::Message& request) {
  if (request.method == "ping") return api::jsonrpc::result_response(request.id, "{}");
  return api::jsonrpc::error_response(request.id, api::jsonrpc::kMethodNotFound,
                                      request.method + " is not offered by the gateway");
}

Reply ServerLink::reply_of(const api::jsonrpc::Message& response) {
  if (response.kind == api::jsonrpc::Kind::result)
    return Reply{Reply::Status::result, std::string(response.result)};
  return Reply{Reply::Status::error, std::string(response.error)};
}

void ServerLink::set_ready(std::optional<ServerInfo> info) {
  info_ = std::move(info);
  for (Timer* t : ready_waiters_) t->cancel();
}

void ServerLink::list_changed(ListKind kind) {
  lists_[std::size_t(kind)].reset();
  ++list_versions_[std::size_t(kind)];
}

void ServerLink::forget_lists() {
  for (const ListSpec& spec : kLists) list_changed(spec.kind);
}

void ServerLink::on_notification(std::string_view method) {
  if (method == "notifications/tools/list_changed") {
    list_changed(ListKind::tools);
  } else if (method == "notifications/prompts/list_changed") {
    list_changed(ListKind::prompts);
  } else if (method == "notifications/resources/list_changed") {
    list_changed(ListKind::resources);
    list_changed(ListKind::resource_templates);
  }
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

Awaitable<Reply> ServerLink::request(std::string_view method, std::string_view params,
                                     Millis timeout) {
  const auto self = shared_from_this();  // a reload may drop the hub's reference meanwhile
  const auto deadline = Clock::now() + timeout;
  const bool ready = co_await wait_ready(deadline);
  if (!ready) co_return Reply{Reply::Status::unavailable, name() + " is not ready"};
  co_return co_await send(method, params, left_until(deadline));
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
    Reply reply = co_await send(spec.method, params, left_until(deadline));
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

std::shared_ptr<ServerLink> make_server_link(Executor executor, const config::McpServer& config) {
  if (config.transport == config::McpServer::Transport::http)
    return make_http_link(executor, config);
  return make_stdio_link(executor, config);
}

}  // namespace switchyard::mcp
