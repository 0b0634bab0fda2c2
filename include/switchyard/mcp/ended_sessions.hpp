// Sessions a client ended (DELETE /mcp), told to every replica through Redis: each end is kept in
// a sorted set (score: when the session would have expired anyway) and announced on a channel,
// so that a running replica hears of it at once and one that (re)subscribes reads the set. A
// replica that hears of an end refuses the session from then on, as the one that got the DELETE
// does. Without Redis an end is known to its own process only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "switchyard/async.hpp"

namespace switchyard::redis {
class Client;
}

namespace switchyard::mcp {

class Hub;

struct EndedSessionNames {
  explicit EndedSessionNames(std::string_view prefix)
      : set(std::string(prefix) + "mcp:ended"), channel(std::string(prefix) + "mcp:ended") {}
  std::string set;      // sorted set: nonce, scored by the session's expiry (Unix seconds)
  std::string channel;  // messages "<nonce> <expiry>"
};

// Records and announces that the session `nonce` ended; it would have expired at `expiry`.
Awaitable<void> announce_end(redis::Client& redis, EndedSessionNames names, std::string nonce,
                             std::int64_t expiry);
// A message of the channel, into the hub's ended sessions.
void apply_end(Hub& hub, std::string_view message);
// Every end not yet expired, into the hub; the expired ones leave the set.
Awaitable<void> catch_up_ends(redis::Client& redis, EndedSessionNames names, Hub& hub);

}  // namespace switchyard::mcp
