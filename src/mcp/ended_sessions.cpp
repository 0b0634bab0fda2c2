#include "switchyard/mcp/ended_sessions.hpp"

#include <array>
#include <charconv>
#include <chrono>

#include "switchyard/mcp/hub.hpp"
#include "switchyard/redis/client.hpp"

namespace switchyard::mcp {
namespace {

void end_in(Hub& hub, std::string_view nonce, std::string_view expiry) {
  std::int64_t seconds = 0;
  const auto [end, ec] = std::from_chars(expiry.data(), expiry.data() + expiry.size(), seconds);
  if (ec != std::errc() || nonce.empty()) return;
  // What the session's id carries, the replica where it ended told the servers.
  hub.end_session(std::string(nonce),
                  std::chrono::system_clock::time_point(std::chrono::seconds(seconds)), {});
}

}  // namespace

Awaitable<void> announce_end(redis::Client& redis, EndedSessionNames names, std::string nonce,
                             std::int64_t expiry) {
  const std::string score = std::to_string(expiry);
  co_await redis.command("ZADD", names.set, score, nonce);
  const std::string message = nonce + " " + score;
  co_await redis.command("PUBLISH", names.channel, message);
}

void apply_end(Hub& hub, std::string_view message) {
  const auto space = message.find(' ');
  if (space != std::string_view::npos)
    end_in(hub, message.substr(0, space), message.substr(space + 1));
}

Awaitable<void> catch_up_ends(redis::Client& redis, EndedSessionNames names, Hub& hub) {
  const std::string now =
      std::to_string(std::chrono::system_clock::to_time_t(std::chrono::system_clock::now()));
  co_await redis.command("ZREMRANGEBYSCORE", names.set, "-inf", now);
  const std::array<std::string_view, 5> range{"ZRANGEBYSCORE", names.set, now, "+inf",
                                              "WITHSCORES"};
  const redis::Result all = co_await redis.command(range);
  if (!all || all.reply->type != redis::Reply::Type::array) co_return;
  const auto& e = all.reply->elements;
  for (std::size_t i = 0; i + 1 < e.size(); i += 2) end_in(hub, e[i].str, e[i + 1].str);
}

}  // namespace switchyard::mcp
