#include "route_sampling.hpp"

#include <atomic>
#include <nlohmann/json.hpp>

#include "switchyard/api/jsonrpc.hpp"
#include "switchyard/handlers/loopback.hpp"
#include "switchyard/mcp/sampling.hpp"
#include "switchyard/telemetry/trace_context.hpp"

namespace switchyard::handlers {
namespace {

// The gateway's answer to its own chat completion, kept instead of written to a socket.
class KeptResponse final : public request::ResponseSink {
 public:
  explicit KeptResponse(std::string request_id) : request_id_(std::move(request_id)) {}

  std::string_view request_id() const override { return request_id_; }
  void add_header(std::string_view, std::string_view) override {}
  void close_after() override {}
  bool committed() const override { return status_ != 0; }
  bool failed() const override { return false; }
  int status() const override { return status_; }
  std::uint64_t bytes_sent() const override { return body_.size(); }
  Awaitable<bool> send(int status, std::string_view, std::string_view body) override {
    status_ = status;
    body_.assign(body);
    co_return true;
  }
  Awaitable<bool> begin_stream(int status, std::string_view) override {
    status_ = status;
    co_return true;
  }
  Awaitable<bool> write_chunk(std::string_view data) override {
    body_.append(data);
    co_return true;
  }
  Awaitable<bool> end_stream() override { co_return true; }
  // The MCP request being served watches its client; this one has none.
  void watch_client(request::Cancellation&) override {}
  void unwatch_client() override {}

  const std::string& body() const { return body_; }

 private:
  std::string request_id_;
  int status_ = 0;
  std::string body_;
};

// An error answer's message, in the OpenAI shape every refusal of the gateway has.
std::string error_message(const std::string& body) {
  const auto json = nlohmann::json::parse(body, nullptr, false);
  if (json.is_object() && json.contains("error") && json["error"].is_object() &&
      json["error"].contains("message") && json["error"]["message"].is_string())
    return json["error"]["message"].get<std::string>();
  return "no error message";
}

mcp::Reply error_reply(int code, const std::string& message) {
  return mcp::Reply{mcp::Reply::Status::error,
                    nlohmann::json{{"code", code}, {"message", message}}.dump()};
}

}  // namespace

Awaitable<mcp::Reply> sample_by_route(const Services& services, const request::Context& request,
                                      const config::McpServer::Sampling& sampling,
                                      std::string_view params) {
  auto chat = mcp::chat_request_of(params, sampling);
  if (!chat) co_return error_reply(api::jsonrpc::kInvalidParams, "Invalid params: " + chat.error());
  const auto& record = request.record;
  const auto traceparent =
      telemetry::format_traceparent(record.trace_id, record.span_id, record.trace_flags);
  std::string head = "POST /v1/chat/completions HTTP/1.1\r\ncontent-type: application/json\r\n";
  head.append("traceparent: ").append(traceparent.data(), traceparent.size()).append("\r\n");
  if (const auto key = request.http.find("authorization"))
    head.append("authorization: ").append(*key).append("\r\n");
  const request::HttpRequest http(head, std::move(*chat));
  // Its own request id, which says whose it is.
  static std::atomic<std::uint64_t> made{0};
  KeptResponse response(std::string(request.request_id()) + "-sampling-" +
                        std::to_string(made.fetch_add(1) + 1));
  request::Context asked(http, response);
  co_await services.loopback->handle(asked);
  if (response.status() != 200)
    co_return error_reply(api::jsonrpc::kInternalError,
                          "the gateway's route answered sampling with HTTP " +
                              std::to_string(response.status()) + ": " +
                              error_message(response.body()));
  auto result = mcp::sampling_result_of(response.body());
  if (!result) co_return error_reply(api::jsonrpc::kInternalError, result.error());
  co_return mcp::Reply{mcp::Reply::Status::result, std::move(*result)};
}

}  // namespace switchyard::handlers
