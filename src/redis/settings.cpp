#include "switchyard/redis/settings.hpp"

namespace switchyard::redis {

std::optional<Settings> Settings::of(const config::Redis& redis, std::string* why) {
  auto url = config::RedisUrl::parse(redis.url, why);
  if (!url) return std::nullopt;
  Settings settings{std::move(*url), {}};
  settings.options.command_timeout = redis.timeout;
  settings.options.connect_timeout = redis.connect_timeout;
  return settings;
}

}  // namespace switchyard::redis
