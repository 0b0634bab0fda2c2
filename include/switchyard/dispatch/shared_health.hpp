// Breaker and health state shared by the replicas through Redis. A replica whose breaker opens
// on a target, whose upstream asks for a pause (429 + Retry-After), or whose health check changes
// its mind about a provider announces it; every replica applies what it hears to its own
// HealthBoard, so one replica's discovery spares the others the failures. The latest state is
// also kept in one Redis hash (a replica that (re)connects catches up from it), written and
// announced by one Lua script so the two never disagree. Fields: "target:<model alias>" →
// open-until as Unix ms; "provider:<name>" → "healthy" or "unhealthy". The hash is hash-tagged
// (`<prefix>{health}`) like every other key.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "switchyard/async.hpp"
#include "switchyard/dispatch/health_board.hpp"

namespace switchyard::redis {
class Client;
}

namespace switchyard::dispatch {

struct HealthNames {
  explicit HealthNames(std::string_view prefix);
  std::string hash, channel;
};

// The announcing side: one per worker.
class SharedHealth {
 public:
  // Without `redis` there is nobody to tell: every call does nothing.
  SharedHealth(Executor ex, redis::Client* redis, std::string prefix);

  // In the background; a failure only means the others learn by themselves.
  void target_open(const routing::Target& target, SteadyTime until);
  void provider_health(std::string_view provider, bool healthy);

 private:
  void announce(std::string field, std::string value, std::chrono::milliseconds keep);

  Executor ex_;
  redis::Client* redis_;
  HealthNames names_;
};

// The listening side: applies one field of the hash (or of an announcement, "<field> <value>")
// to `board`. Unknown targets and providers (another configuration) are ignored.
void apply_health(std::string_view field, std::string_view value, HealthBoard& board);
// Reads the whole hash and applies it (after a (re)connection).
Awaitable<void> catch_up_health(redis::Client& redis, std::string_view prefix, HealthBoard& board);

}  // namespace switchyard::dispatch
