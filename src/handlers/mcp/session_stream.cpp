// The session's own traffic outside its requests: the stream (GET), its subscriptions as the
// replicas share them, and its end (DELETE).
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>

#include "mcp.hpp"
#include "switchyard/mcp/ended_sessions.hpp"
#include "switchyard/mcp/shared_streams.hpp"
#include "switchyard/telemetry/request_log.hpp"
#include "transport.hpp"

namespace switchyard::handlers {
namespace {

using namespace mcp_transport;
namespace jsonrpc = api::jsonrpc;

// How long a client whose stream (GET) ended waits before it opens another.
constexpr std::chrono::milliseconds kReconnectAfter{1'000};
// How long after a stream that came from another replica opens here that replica has surely
// heard so (Redis pub/sub takes milliseconds) and keeps no more events for it.
constexpr std::chrono::milliseconds kMovedBy{1'000};

// What the replica that had the stream kept after the events replayed here were read (up to
// `after`; none were: ""): pushed once it has heard the stream moved.
Awaitable<void> catch_up(redis::Client& redis, mcp::SharedStreamNames names,
                         mcp::SessionStreams& streams, std::string nonce,
                         std::shared_ptr<mcp::Relay> stream, std::string after) {
  Timer wait(co_await asio::this_coro::executor, kMovedBy);
  co_await wait.async_wait(as_result);
  const std::vector<mcp::KeptEvent> kept = co_await mcp::kept_events(redis, names, nonce);
  streams.catch_up(nonce, stream.get(), after, kept);
}

}  // namespace

std::int64_t Mcp::expiry_of(const mcp::Session& session) const {
  return session.issued +
         std::chrono::duration_cast<std::chrono::seconds>(services_.config.mcp.session_ttl).count();
}

Awaitable<void> Mcp::end_session(request::Context& request, const Caller& caller) {
  auto& sink = request.response();
  const auto session = co_await session_of(request, caller, {});
  if (!session) co_return;
  const std::int64_t expiry = expiry_of(*session);
  services_.mcp->end_session(session->nonce,
                             std::chrono::system_clock::time_point(std::chrono::seconds(expiry)),
                             session->upstream);
  if (services_.redis) {
    // Every replica refuses it from now on, and nothing is kept for it.
    const std::string& prefix = services_.config.redis->prefix;
    auto announce = mcp::announce_end(*services_.redis, mcp::EndedSessionNames(prefix),
                                      session->nonce, expiry + 1);
    co_await std::move(announce);
    const mcp::SharedStreamNames names(prefix);
    co_await mcp::forget_shared(*services_.redis, names, session->nonce);
  }
  co_await sink.send(200, kJson, "{}");
}

Awaitable<void> Mcp::share_subscription(const request::Context& request,
                                        const mcp::Session& session, bool subscribe) {
  const std::string& uri = request.record.mcp.name;
  if (!services_.redis || request.record.mcp.error_code != 0 || request.cancel.aborted() ||
      uri.empty())
    co_return;
  const mcp::SharedStreamNames names(services_.config.redis->prefix);
  co_await mcp::share_subscription(*services_.redis, names, session.nonce, uri, subscribe,
                                   expiry_of(session));
}

Awaitable<void> Mcp::listen(request::Context& request, const Caller& caller) {
  auto& sink = request.response();
  if (!accepts(request.http.header("Accept"), kEventStream)) {
    co_await refuse(sink, 406, jsonrpc::kInvalidRequest,
                    "Not Acceptable: the client must accept text/event-stream");
    co_return;
  }
  const auto session = co_await session_of(request, caller, {});
  if (!session) co_return;
  const std::string& nonce = session->nonce;
  request.record.mcp.method = "stream";
  request.record.mcp.server = caller.server;
  request.record.mcp.session = nonce;
  mcp::SessionStreams& streams = services_.mcp->streams();
  const std::string_view last_event_id = request.http.header("Last-Event-ID");
  // With Redis, the stream may come from another replica: what the client missed there, and
  // the session's subscriptions, are in Redis; that replica ends its stream when told.
  const bool arrived = services_.redis && !streams.home_of(nonce);
  std::optional<mcp::SharedStreamNames> names;
  std::vector<mcp::KeptEvent> kept;
  if (services_.redis) names.emplace(services_.config.redis->prefix);
  // The client was last given events by another replica.
  const bool from_elsewhere = names && !last_event_id.empty() && !streams.is_own(last_event_id);
  if (from_elsewhere) kept = co_await mcp::kept_events(*services_.redis, *names, nonce);
  if (arrived) co_await mcp::announce_stream(*services_.redis, *names, nonce);
  auto relay = std::make_shared<mcp::Relay>(co_await asio::this_coro::executor);
  const std::string primer = streams.open({nonce, caller.server, caller.access}, relay,
                                          last_event_id, names ? &kept : nullptr);
  services_.mcp->listen_for(nonce, caller.server, caller.access, session->upstream);
  if (arrived && from_elsewhere) {
    std::string after = kept.empty() ? std::string() : kept.back().id;
    asio::co_spawn(co_await asio::this_coro::executor,
                   catch_up(*services_.redis, *names, streams, nonce, relay, std::move(after)),
                   asio::detached);
  }
  if (arrived) {
    std::vector<std::string> uris =
        co_await mcp::shared_subscriptions(*services_.redis, *names, nonce);
    if (!uris.empty()) services_.mcp->follow(nonce, "resources/subscribe", std::move(uris));
  }
  request.cancel.watch(&relay->waker());
  sink.watch_client(request.cancel);
  bool open = co_await sink.begin_stream(200, kEventStream);
  {
    // Waiting for the servers: not the gateway's overhead.
    telemetry::WaitScope waiting(request.record.wait);
    // The priming event: its id is where the client resumes from (Last-Event-ID) when cut off.
    const std::string priming =
        "id: " + primer + "\nretry: " + std::to_string(kReconnectAfter.count()) + "\ndata: \n\n";
    if (open) open = co_await sink.write_chunk(priming);
    while (open && !request.cancel.aborted() && !relay->ended()) {
      co_await relay->wait();
      std::vector<std::string> events = relay->take();
      for (const std::string& event : events)
        if (open) open = co_await sink.write_chunk(event);
    }
  }
  sink.unwatch_client();
  request.cancel.unwatch(&relay->waker());
  streams.close(nonce, relay.get());
  services_.mcp->stop_listening_for(nonce);
  // Replaced by another stream of the session (here or at another replica), or the gateway
  // drains: the stream ends cleanly and the client reconnects.
  if (open && !request.cancel.aborted()) co_await sink.end_stream();
}

}  // namespace switchyard::handlers
