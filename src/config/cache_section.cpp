// The `cache:` and `redis:` sections: the response cache, and the Redis server that replicas
// share state through.
#include <array>

#include "sections.hpp"
#include "switchyard/config/redis_url.hpp"

namespace switchyard::config {
namespace {

constexpr std::array<std::string_view, 6> kCacheKeys{
    "backend", "ttl", "max_bytes", "max_entry", "share_across_models", "max_temperature",
};
constexpr std::array<std::string_view, 2> kBackends{"memory", "redis"};
constexpr std::array<std::string_view, 4> kRedisKeys{"url", "timeout", "connect_timeout", "prefix"};
// OpenAI's temperature ranges over [0, 2].
constexpr double kMaxTemperature = 2;

}  // namespace

void read_cache(NodeReader& reader, const Entry& entry, Cache& cache) {
  cache.enabled = true;
  const auto section = reader.section(entry, kCacheKeys);
  if (!section) return;
  for (const Entry& e : section->entries) {
    if (e.key == "backend") {
      if (const auto which = reader.choice(e, kBackends)) cache.backend = Cache::Backend(*which);
    } else if (e.key == "ttl") {
      assign(cache.ttl, reader.duration(e, Zero::rejected));
    } else if (e.key == "max_bytes") {
      assign(cache.max_bytes, reader.size(e, Zero::rejected));
    } else if (e.key == "max_entry") {
      assign(cache.max_entry, reader.size(e, Zero::rejected));
    } else if (e.key == "share_across_models") {
      assign(cache.share_across_models, reader.boolean(e));
    } else if (e.key == "max_temperature") {
      const auto t = reader.non_negative_number(e);
      if (t && *t > kMaxTemperature) {
        reader.error(e.value_position(), e.path + ": expected a temperature from 0 to 2");
      } else {
        assign(cache.max_temperature, t);
      }
    }
  }
}

void read_redis(NodeReader& reader, const Entry& entry, Redis& redis) {
  const auto section = reader.section(entry, kRedisKeys);
  if (!section || !reader.require(*section, "url")) return;
  for (const Entry& e : section->entries) {
    if (e.key == "url") {
      // May carry a password: never quoted back.
      const auto url = reader.text(e, /*secret=*/true);
      if (!url) continue;
      if (const auto parsed = RedisUrl::parse(*url); !parsed) {
        reader.error(e.value_position(), e.path + ": " + parsed.error());
      } else {
        redis.url = *url;
      }
    } else if (e.key == "timeout") {
      assign(redis.timeout, reader.duration(e, Zero::rejected));
    } else if (e.key == "connect_timeout") {
      assign(redis.connect_timeout, reader.duration(e, Zero::rejected));
    } else if (e.key == "prefix") {
      assign(redis.prefix, reader.text(e));
    }
  }
}

}  // namespace switchyard::config
