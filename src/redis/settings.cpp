#include "switchyard/redis/settings.hpp"

namespace switchyard::redis {

switchyard::Result<Settings> Settings::of(const config::Redis& redis) {
  auto url = config::RedisUrl::parse(redis.url);
  if (!url) return Unexpected(std::move(url).error());
  Settings settings{std::move(*url), {}};
  settings.options.command_timeout = redis.timeout;
  settings.options.connect_timeout = redis.connect_timeout;
  return settings;
}

}  // namespace switchyard::redis
