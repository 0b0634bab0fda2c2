// Where route and model overrides live in Redis, shared by every replica: a hash per kind,
// `<prefix>routes` and `<prefix>models`, holding one JSON value per name (an object defines the
// route or model, `null` removes the file's), and a channel, `<prefix>config`, on which a change
// is announced so that every replica re-reads and re-validates them.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "switchyard/async.hpp"
#include "switchyard/config/config.hpp"

namespace switchyard::redis {

class Client;

struct OverrideNames {
  explicit OverrideNames(std::string_view prefix);
  std::string routes, models, channel;
};

// Both hashes, each in name order; or why not, when Redis did not answer.
Awaitable<switchyard::Result<config::Overrides>> fetch_overrides(redis::Client& redis,
                                                                 std::string_view prefix);
// The same from a thread without an event loop (start-up): connects, reads and disconnects
// within the configured timeouts.
switchyard::Result<config::Overrides> fetch_overrides_now(const config::Redis& redis);

// `switchyard routes|models list|get|set|delete|reset ...`: prints to stdout, problems to stderr;
// returns the exit status. `args` follow the kind.
int run_overrides_command(std::string_view kind, std::span<const std::string_view> args);

}  // namespace switchyard::redis
