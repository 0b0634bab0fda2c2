// POST, GET and DELETE /mcp and /mcp/<server>: the MCP front door, Streamable HTTP as the MCP
// specification (revision 2025-11-25) describes it. This class keeps the transport's rules — the
// Origin allow-list, Accept, the message size, MCP-Protocol-Version, the session id that
// initialize hands out and every later request must carry — and hands each JSON-RPC request to
// the process's mcp::Hub, which answers it from the servers. Answers are single JSON responses or
// event streams; notifications and responses from the client are accepted with 202; GET opens
// the session's stream of what servers say outside its requests.
#pragma once

#include "switchyard/api/jsonrpc.hpp"
#include "switchyard/handlers/handler.hpp"
#include "switchyard/handlers/services.hpp"
#include "switchyard/mcp/hub.hpp"
#include "switchyard/mcp/session.hpp"
#include "switchyard/mcp/session_signer.hpp"

namespace switchyard::handlers {

// One tools/call counted in flight (max_concurrency) while it lives.
class InFlight {
 public:
  explicit InFlight(std::shared_ptr<std::atomic<std::uint32_t>> count) : count_(std::move(count)) {}
  InFlight(InFlight&&) = default;
  InFlight& operator=(InFlight&&) = default;
  ~InFlight() {
    if (count_) count_->fetch_sub(1);
  }

 private:
  std::shared_ptr<std::atomic<std::uint32_t>> count_;
};

class Mcp final : public Handler {
 public:
  static constexpr std::string_view kName = "mcp";
  explicit Mcp(const Services& services);
  Awaitable<void> handle(request::Context& request) override;

 private:
  // Who asks, of what: the view (a server, or "" for /mcp) and the key's name and reach.
  struct Caller {
    std::string server;
    std::string key;
    config::McpAccess access;
  };
  // The session of a request that needs one, when it carries a genuine id; else nullopt, the
  // request refused (400 without an id, 404 with one this view and key do not know). `id`: the
  // JSON-RPC request's, for the refusal.
  Awaitable<std::optional<mcp::Session>> session_of(request::Context& request, const Caller& caller,
                                                    std::string_view id);
  // When the session would expire, in Unix seconds.
  std::int64_t expiry_of(const mcp::Session& session) const;
  // DELETE: the session ends.
  Awaitable<void> end_session(request::Context& request, const Caller& caller);
  // GET: the session's stream of what servers say outside its requests, resumed after the
  // client's Last-Event-ID with what followed it (kept here, or with Redis by any replica).
  Awaitable<void> listen(request::Context& request, const Caller& caller);
  // With Redis, a resources/(un)subscribe the servers granted, for the replica that has (or
  // will have) the session's stream.
  Awaitable<void> share_subscription(const request::Context& request, const mcp::Session& session,
                                     bool subscribe);
  // POST: one JSON-RPC message.
  Awaitable<void> post(request::Context& request, const Caller& caller);
  // An initialize request: a new session, signed, if the view answers it.
  Awaitable<void> initialize(request::Context& request, const Caller& caller,
                             const api::jsonrpc::Message& message);
  // The session the request's Mcp-Session-Id names, when genuine, not ended, and of this view
  // and key.
  std::optional<mcp::Session> read_session(const request::Context& request,
                                           const Caller& caller) const;
  // The hub's answer, its wait and error code noted in the request's record.
  Awaitable<std::string> ask_hub(request::Context& request, mcp::ClientRequest call);
  // The answer as an event stream, begun by the first message that comes before it.
  struct EventStream {
    request::ResponseSink& sink;
    bool begun = false;
    Awaitable<void> write(std::string_view message);
  };
  // A request's answer: JSON, or an event stream when the servers send messages about the
  // request (progress, log messages, their requests of the client) before it. The client
  // leaving cancels it at the server. The limits' slots `held` are given back as soon as the
  // servers are done, before the answer is written.
  Awaitable<void> relay_answer(request::Context& request, mcp::ClientRequest call,
                               const mcp::Session& session, std::vector<InFlight>& held);
  // A server's request made while serving the client's: served by the server's sampling route,
  // passed on to the client under an id of the gateway's (its key into `awaited`), or refused
  // when the client did not offer it.
  Awaitable<void> ask_client(const request::Context& request, const mcp::Session& session,
                             mcp::ServerRequest asked, EventStream& stream,
                             std::vector<std::string>& awaited);
  // Requests in flight are known by their session and the client's id for them.
  static std::string tracking_key(std::string_view nonce, std::string_view id);
  // Where a response for a server's request of another replica waits for it in Redis.
  std::string answer_key(std::string_view key) const;
  // Answers another replica left in Redis for the servers' requests in `awaited` go to their
  // servers (and leave `awaited`).
  Awaitable<void> collect_answers(std::vector<std::string>& awaited);
  // A client's response to a server's request: on to the server, or through Redis to the replica
  // whose server asked.
  Awaitable<void> take_response(request::Context& request, const mcp::Session& session,
                                const api::jsonrpc::Message& message);
  // A tools/call within the key's and the server's limits (rpm, calls in flight): true, with the
  // slots it holds in `held`; else false, the 429 sent.
  Awaitable<bool> admit_call(request::Context& request, const config::McpAccess& access,
                             std::string_view id, std::vector<InFlight>& held);
  // The hub's answer into the relay, on the worker's thread.
  static Awaitable<void> deliver(mcp::Hub& hub, std::shared_ptr<mcp::Relay> relay,
                                 mcp::ClientRequest call);

  const Services& services_;
  mcp::SessionSigner signer_;
};

// GET /admin/mcp: the MCP servers as the hub sees them.
class McpStatus final : public Handler {
 public:
  static constexpr std::string_view kName = "admin";
  explicit McpStatus(const Services& services) : services_(services) {}
  Awaitable<void> handle(request::Context& request) override;

 private:
  const Services& services_;
};

}  // namespace switchyard::handlers
