#include "switchyard/dispatch/shared_health.hpp"

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <charconv>

#include "switchyard/redis/client.hpp"

namespace switchyard::dispatch {

namespace {

using SystemClock = std::chrono::system_clock;
using SteadyClock = std::chrono::steady_clock;

// KEYS[1] the hash; ARGV: field, value, channel, keep (ms). A target's open-until only ever
// moves later (two replicas opening at once keep the longer); the hash lives as long as the
// longest pause announced into it.
// Built on first use: its SHA-1 would otherwise start OpenSSL's digests in every process, Redis
// or not (2 MB of resident memory).
const redis::Script& announce_script() {
  static const redis::Script script(R"lua(
local field, value = ARGV[1], ARGV[2]
if string.sub(field, 1, 7) == 'target:' then
  local held = tonumber(redis.call('HGET', KEYS[1], field) or '0')
  if held >= tonumber(value) then return 0 end
end
redis.call('HSET', KEYS[1], field, value)
local keep = tonumber(ARGV[4])
if redis.call('PTTL', KEYS[1]) < keep then redis.call('PEXPIRE', KEYS[1], keep) end
redis.call('PUBLISH', ARGV[3], field .. ' ' .. value)
return 1
)lua");
  return script;
}

// How long a provider's health is remembered without a new announcement.
constexpr std::chrono::milliseconds kKeepProviderHealth = std::chrono::hours(1);

std::int64_t unix_ms(SystemClock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace

HealthNames::HealthNames(std::string_view prefix)
    : hash(std::string(prefix) + "{health}"), channel(std::string(prefix) + "{health}:events") {}

SharedHealth::SharedHealth(Executor ex, redis::Client* redis, std::string prefix)
    : ex_(ex), redis_(redis), names_(prefix) {}

void SharedHealth::target_open(const routing::Target& target, SteadyTime until) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(until - SteadyClock::now());
  if (!redis_ || left.count() <= 0) return;
  announce("target:" + target.model->name, std::to_string(unix_ms(SystemClock::now() + left)),
           left);
}

void SharedHealth::provider_health(std::string_view provider, bool healthy) {
  if (!redis_) return;
  announce("provider:" + std::string(provider), healthy ? "healthy" : "unhealthy",
           kKeepProviderHealth);
}

void SharedHealth::announce(std::string field, std::string value, std::chrono::milliseconds keep) {
  // The client belongs to the worker and outlives the work on its io_context.
  asio::co_spawn(
      ex_,
      [redis = redis_, hash = names_.hash, channel = names_.channel, field = std::move(field),
       value = std::move(value), keep = std::to_string(keep.count())]() -> Awaitable<void> {
        const std::array<std::string_view, 1> keys{hash};
        const std::array<std::string_view, 4> args{field, value, channel, keep};
        co_await redis->eval(announce_script(), keys, args);
      },
      asio::detached);
}

void apply_health(std::string_view field, std::string_view value, HealthBoard& board) {
  const auto& routes = board.routes();
  if (field.starts_with("target:")) {
    const std::string_view alias = field.substr(7);
    std::int64_t until_ms = 0;
    std::from_chars(value.data(), value.data() + value.size(), until_ms);
    const auto left = std::chrono::milliseconds(until_ms - unix_ms(SystemClock::now()));
    if (left.count() <= 0) return;
    for (const auto& target : routes.targets()) {
      if (target.model->name != alias) continue;
      const auto now = SteadyClock::now();
      board.target(target).cool_down(now, now + left);
    }
  } else if (field.starts_with("provider:")) {
    const std::string_view name = field.substr(9);
    const auto& providers = routes.config().providers;
    for (std::size_t i = 0; i < providers.size(); ++i) {
      if (providers[i].name != name) continue;
      board.provider(i).healthy.store(value == "healthy", std::memory_order_relaxed);
    }
  }
}

Awaitable<void> catch_up_health(redis::Client& redis, std::string_view prefix, HealthBoard& board) {
  const HealthNames names(prefix);
  const std::array<std::string_view, 2> hgetall{"HGETALL", names.hash};
  const redis::Result all = co_await redis.command(hgetall);
  if (!all || all.reply->type != redis::Reply::Type::array) co_return;
  const auto& e = all.reply->elements;
  for (std::size_t i = 0; i + 1 < e.size(); i += 2) apply_health(e[i].str, e[i + 1].str, board);
}

}  // namespace switchyard::dispatch
