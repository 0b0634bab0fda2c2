// Sessions' streams (GET /mcp) shared by the replicas through Redis, so that a client whose
// stream a load balancer sends to another replica loses nothing:
//   - the events of the session whose stream a replica has go to a list `<prefix>mcp:events:
//     <nonce>` (the last SessionStreams::kReplay, kept kIdle after the last one), from which
//     another replica replays what followed the client's Last-Event-ID;
//   - the session's subscriptions are a set `<prefix>mcp:subscriptions:<nonce>` (until the
//     session expires); the replica where its stream opens subscribes its servers to them;
//   - on the channel `<prefix>mcp:streams`, "open <process> <nonce>" when a stream opens (the
//     replica that had it ends it: one stream per session), and "subscribe|unsubscribe <process>
//     <nonce> <uri>" when a replica took a subscription for a session whose stream is elsewhere.
// And beside the streams, the sessions a session opened with HTTP servers after its id was issued
// (a server forgot the one the id carries): a hash `<prefix>mcp:servers:<nonce>`, server name to
// the server's session id, until the session expires.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/async.hpp"
#include "switchyard/mcp/session_streams.hpp"

namespace switchyard::redis {
class Client;
}

namespace switchyard::mcp {

class Hub;

struct SharedStreamNames {
  explicit SharedStreamNames(std::string_view redis_prefix)
      : prefix(redis_prefix), channel(std::string(redis_prefix) + "mcp:streams") {}
  std::string events(std::string_view nonce) const;
  std::string subscriptions(std::string_view nonce) const;
  std::string servers(std::string_view nonce) const;
  std::string prefix;
  std::string channel;
};

// One more event of the session, after those kept.
Awaitable<void> keep_event(redis::Client& redis, const SharedStreamNames& names, std::string nonce,
                           KeptEvent event);
// The session's kept events, oldest first; none when Redis does not answer.
Awaitable<std::vector<KeptEvent>> kept_events(redis::Client& redis, const SharedStreamNames& names,
                                              const std::string& nonce);
// The session's stream opened in this process: the replica that had it ends it.
Awaitable<void> announce_stream(redis::Client& redis, const SharedStreamNames& names,
                                const std::string& nonce);
// The session (un)subscribed to `uri`: kept until `expiry` (Unix seconds) and announced to the
// replica that has its stream.
Awaitable<void> share_subscription(redis::Client& redis, const SharedStreamNames& names,
                                   const std::string& nonce, const std::string& uri, bool subscribe,
                                   std::int64_t expiry);
// The session's subscriptions.
Awaitable<std::vector<std::string>> shared_subscriptions(redis::Client& redis,
                                                         const SharedStreamNames& names,
                                                         const std::string& nonce);
// The session's session with `server` is `id` from now on, kept until `expiry` (Unix seconds).
Awaitable<void> keep_server_session(redis::Client& redis, const SharedStreamNames& names,
                                    std::string nonce, std::string server, std::string id,
                                    std::int64_t expiry);
// The session's session with `server` another replica opened; none when Redis has none.
Awaitable<std::optional<std::string>> kept_server_session(redis::Client& redis,
                                                          const SharedStreamNames& names,
                                                          const std::string& nonce,
                                                          const std::string& server);
// The session ended: nothing more is kept for it.
Awaitable<void> forget_shared(redis::Client& redis, const SharedStreamNames& names,
                              const std::string& nonce);
// A message of the channel, into the hub (another process's only).
void apply_stream_message(Hub& hub, std::string_view message);

}  // namespace switchyard::mcp
