#include "mcp_endpoint.hpp"

#include <nlohmann/json.hpp>

namespace switchyard::mock {
namespace {

using Json = nlohmann::json;

Json answer(const Json& request) {
  const Json& id = request["id"];
  const std::string method = request.value("method", "");
  const Json params = request.value("params", Json::object());
  Json result;
  if (method == "initialize") {
    result = {{"protocolVersion", params.value("protocolVersion", "2025-11-25")},
              {"capabilities", {{"tools", Json::object()}}},
              {"serverInfo", {{"name", "switchyard-mock"}, {"version", "1"}}}};
  } else if (method == "ping") {
    result = Json::object();
  } else if (method == "tools/list") {
    result = {{"tools",
               {{{"name", "echo"},
                 {"description", "Echoes back the message"},
                 {"inputSchema",
                  {{"type", "object"},
                   {"properties", {{"message", {{"type", "string"}}}}},
                   {"required", {"message"}}}}}}}};
  } else if (method == "tools/call" && params.value("name", "") == "echo") {
    const Json arguments = params.value("arguments", Json::object());
    result = {{"content", {{{"type", "text"}, {"text", arguments.value("message", "")}}}}};
  } else {
    return {{"jsonrpc", "2.0"},
            {"id", id},
            {"error", {{"code", -32601}, {"message", "Method not found: " + method}}}};
  }
  return {{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}};
}

}  // namespace

bool is_mcp(std::string_view path) {
  return path.ends_with("/mcp");
}

boost::asio::awaitable<ConnectionFate> serve_mcp(Exchange& exchange) {
  const auto request = Json::parse(exchange.request().body(), nullptr, false);
  if (!request.is_object()) {
    Response response =
        json_response(exchange.request(), 400,
                      R"({"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error"}})");
    co_return co_await exchange.send(std::move(response));
  }
  if (!request.contains("id")) {
    Response response = json_response(exchange.request(), 202, "");
    co_return co_await exchange.send(std::move(response));
  }
  Response response = json_response(exchange.request(), 200, answer(request).dump());
  if (request.value("method", "") == "initialize") response.set("Mcp-Session-Id", "mock-session");
  co_return co_await exchange.send(std::move(response));
}

}  // namespace switchyard::mock
