// What a `redis:` section configures, in the terms the client and subscriber take.
#pragma once

#include <optional>
#include <string>

#include "switchyard/config/config.hpp"
#include "switchyard/config/redis_url.hpp"
#include "switchyard/redis/client.hpp"

namespace switchyard::redis {

struct Settings {
  config::RedisUrl url;
  Options options;

  // Or why not, when the URL is not usable (a loaded config's has been checked already; one
  // given on a command line may not).
  static switchyard::Result<Settings> of(const config::Redis& redis);
};

}  // namespace switchyard::redis
