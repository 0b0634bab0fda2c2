// A server's requests of the client while it serves the client's request (sampling,
// elicitation, roots): served by the server's sampling route or passed on to the client; and the
// client's responses to them, which may reach another replica than the one whose server asked.
#include <algorithm>
#include <atomic>
#include <nlohmann/json.hpp>

#include "mcp.hpp"
#include "route_sampling.hpp"
#include "switchyard/api/jsonrpc.hpp"
#include "switchyard/config/config.hpp"
#include "switchyard/mcp/hub.hpp"
#include "switchyard/mcp/server_link.hpp"
#include "switchyard/mcp/session.hpp"
#include "switchyard/redis/client.hpp"
#include "transport.hpp"

namespace switchyard::handlers {
namespace {

namespace jsonrpc = api::jsonrpc;

using namespace mcp_transport;

// Whether `id` (raw JSON) is one another gateway process gave a server's request it relayed:
// "switchyard-<its tag>-<number>".
bool of_another_replica(std::string_view id) {
  constexpr std::string_view kPrefix = "\"switchyard-";
  if (!id.starts_with(kPrefix) || !id.ends_with('"')) return false;
  const std::string_view rest = id.substr(kPrefix.size(), id.size() - kPrefix.size() - 1);
  const auto dash = rest.rfind('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 == rest.size()) return false;
  const std::string_view tag = rest.substr(0, dash), number = rest.substr(dash + 1);
  return tag != mcp::process_tag() &&
         std::all_of(number.begin(), number.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

Awaitable<void> Mcp::take_response(request::Context& request, const mcp::Session& session,
                                   const jsonrpc::Message& message) {
  request.record.mcp.method = "response";
  const std::string key = tracking_key(session.nonce, message.id);
  mcp::Reply reply = mcp::reply_of(message);
  bool taken = services_.mcp->answered(key, reply);
  // Another replica's request: the answer waits in Redis for it to collect.
  if (!taken && services_.redis && of_another_replica(message.id)) {
    const std::string stored =
        nlohmann::json{{"ok", reply.ok()}, {"body", std::move(reply.body)}}.dump();
    const std::string redis_key = answer_key(key);
    const auto set = co_await services_.redis->command("SET", redis_key, stored, "EX", "300");
    taken = set && !set.reply->is_error();
  }
  if (!taken) {
    // Late (the request it answers ended), or for a request of a process out of reach.
    co_await refuse(request.response(), 400, jsonrpc::kInvalidRequest,
                    "Bad Request: no request of this session awaits a response with id " +
                        std::string(message.id));
    co_return;
  }
  co_await request.response().send(202, {}, {});
}

std::string Mcp::answer_key(std::string_view key) const {
  return services_.config.redis->prefix + "mcp:answer:" + std::string(key);
}

Awaitable<void> Mcp::collect_answers(std::vector<std::string>& awaited) {
  for (auto it = awaited.begin(); it != awaited.end();) {
    const std::string redis_key = answer_key(*it);
    const auto got = co_await services_.redis->command("GET", redis_key);
    if (!got || got.reply->type != redis::Reply::Type::string) {
      ++it;
      continue;
    }
    co_await services_.redis->command("DEL", redis_key);
    const auto stored = nlohmann::json::parse(got.reply->str, nullptr, false);
    if (stored.is_object() && stored.contains("ok") && stored["ok"].is_boolean() &&
        stored.contains("body") && stored["body"].is_string()) {
      services_.mcp->answered(*it, mcp::Reply{stored["ok"].get<bool>() ? mcp::Reply::Status::result
                                                                       : mcp::Reply::Status::error,
                                              stored["body"].get<std::string>()});
    }
    it = awaited.erase(it);
  }
}

Awaitable<void> Mcp::ask_client(const request::Context& request, const mcp::Session& session,
                                mcp::ServerRequest asked, EventStream& stream,
                                std::vector<std::string>& awaited) {
  const config::McpServer* server = services_.config.mcp.find_server(asked.server);
  if (asked.method == "sampling/createMessage" && server && !server->sampling.route.empty()) {
    mcp::Reply reply = co_await sample_by_route(services_, request, server->sampling, asked.params);
    asked.answer(std::move(reply));
    co_return;
  }
  const unsigned needed = mcp::Session::feature_for(asked.method, asked.params);
  if ((session.features & needed) != needed) {
    asked.answer(mcp::Reply{
        mcp::Reply::Status::error,
        nlohmann::json{
            {"code", jsonrpc::kMethodNotFound},
            {"message", "The client does not offer " + asked.method +
                            ((needed & mcp::Session::kSamplingTools) ? " with tools" : "")}}
            .dump()});
    co_return;
  }
  // Ids of the gateway's, unique across replicas: the servers' own would collide across servers.
  static std::atomic<std::uint64_t> made{0};
  const std::string id =
      "\"switchyard-" + mcp::process_tag() + "-" + std::to_string(made.fetch_add(1) + 1) + "\"";
  const std::string key = tracking_key(session.nonce, id);
  services_.mcp->await_answer(key, std::move(asked.answer));
  awaited.push_back(key);
  co_await stream.write(jsonrpc::request_message(id, asked.method, asked.params));
}

}  // namespace switchyard::handlers
