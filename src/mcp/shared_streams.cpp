#include "switchyard/mcp/shared_streams.hpp"

#include "switchyard/mcp/hub.hpp"
#include "switchyard/mcp/session.hpp"
#include "switchyard/redis/client.hpp"

namespace switchyard::mcp {
namespace {

// The next word of `message`, which loses it and the space after it.
std::string_view next_word(std::string_view& message) {
  const auto space = message.find(' ');
  const std::string_view word = message.substr(0, space);
  message.remove_prefix(space == std::string_view::npos ? message.size() : space + 1);
  return word;
}

}  // namespace

std::string SharedStreamNames::events(std::string_view nonce) const {
  return prefix + "mcp:events:" + std::string(nonce);
}

std::string SharedStreamNames::subscriptions(std::string_view nonce) const {
  return prefix + "mcp:subscriptions:" + std::string(nonce);
}

std::string SharedStreamNames::servers(std::string_view nonce) const {
  return prefix + "mcp:servers:" + std::string(nonce);
}

Awaitable<void> keep_event(redis::Client& redis, const SharedStreamNames& names, std::string nonce,
                           KeptEvent event) {
  const std::string key = names.events(nonce);
  const std::string entry = event.id + "\n" + event.event;
  const std::string first = "-" + std::to_string(SessionStreams::kReplay);
  const std::string idle = std::to_string(
      std::chrono::duration_cast<std::chrono::seconds>(SessionStreams::kIdle).count());
  co_await redis.command("RPUSH", key, entry);
  co_await redis.command("LTRIM", key, first, "-1");
  co_await redis.command("EXPIRE", key, idle);
}

Awaitable<std::vector<KeptEvent>> kept_events(redis::Client& redis, const SharedStreamNames& names,
                                              const std::string& nonce) {
  std::vector<KeptEvent> out;
  const std::string key = names.events(nonce);
  const redis::Result all = co_await redis.command("LRANGE", key, "0", "-1");
  if (!all || all.reply->type != redis::Reply::Type::array) co_return out;
  for (const redis::Reply& entry : all.reply->elements) {
    const auto newline = entry.str.find('\n');
    if (newline != std::string::npos)
      out.push_back({entry.str.substr(0, newline), entry.str.substr(newline + 1)});
  }
  co_return out;
}

Awaitable<void> announce_stream(redis::Client& redis, const SharedStreamNames& names,
                                const std::string& nonce) {
  const std::string message = "open " + process_tag() + " " + nonce;
  co_await redis.command("PUBLISH", names.channel, message);
}

Awaitable<void> share_subscription(redis::Client& redis, const SharedStreamNames& names,
                                   const std::string& nonce, const std::string& uri, bool subscribe,
                                   std::int64_t expiry) {
  const std::string key = names.subscriptions(nonce);
  co_await redis.command(subscribe ? "SADD" : "SREM", key, uri);
  const std::string at = std::to_string(expiry);
  co_await redis.command("EXPIREAT", key, at);
  const std::string message = std::string(subscribe ? "subscribe " : "unsubscribe ") +
                              process_tag() + " " + nonce + " " + uri;
  co_await redis.command("PUBLISH", names.channel, message);
}

Awaitable<std::vector<std::string>> shared_subscriptions(redis::Client& redis,
                                                         const SharedStreamNames& names,
                                                         const std::string& nonce) {
  std::vector<std::string> out;
  const std::string key = names.subscriptions(nonce);
  const redis::Result all = co_await redis.command("SMEMBERS", key);
  if (!all || all.reply->type != redis::Reply::Type::array) co_return out;
  for (const redis::Reply& uri : all.reply->elements) out.push_back(uri.str);
  co_return out;
}

Awaitable<void> keep_server_session(redis::Client& redis, const SharedStreamNames& names,
                                    std::string nonce, std::string server, std::string id,
                                    std::int64_t expiry) {
  const std::string key = names.servers(nonce);
  co_await redis.command("HSET", key, server, id);
  const std::string at = std::to_string(expiry);
  co_await redis.command("EXPIREAT", key, at);
}

Awaitable<std::optional<std::string>> kept_server_session(redis::Client& redis,
                                                          const SharedStreamNames& names,
                                                          const std::string& nonce,
                                                          const std::string& server) {
  const std::string key = names.servers(nonce);
  const redis::Result id = co_await redis.command("HGET", key, server);
  if (!id || id.reply->type != redis::Reply::Type::string) co_return std::nullopt;
  co_return id.reply->str;
}

Awaitable<void> forget_shared(redis::Client& redis, const SharedStreamNames& names,
                              const std::string& nonce) {
  const std::string events = names.events(nonce), subscriptions = names.subscriptions(nonce),
                    servers = names.servers(nonce);
  co_await redis.command("DEL", events, subscriptions, servers);
}

void apply_stream_message(Hub& hub, std::string_view message) {
  const std::string_view op = next_word(message);
  const std::string_view tag = next_word(message);
  const std::string nonce(next_word(message));
  if (tag == process_tag() || nonce.empty()) return;  // this process's own
  if (op == "open") {
    hub.stream_moved(nonce);
  } else if ((op == "subscribe" || op == "unsubscribe") && !message.empty()) {
    hub.follow(nonce, "resources/" + std::string(op), {std::string(message)});
  }
}

}  // namespace switchyard::mcp
