#include "switchyard/redis/overrides_store.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <cstdio>
#include <functional>

#include "switchyard/redis/client.hpp"
#include "switchyard/redis/settings.hpp"

namespace switchyard::redis {

using config::load_config_file;
using config::Overrides;
using config::process_env;
using config::Redis;

namespace {

// A concurrent edit (another operator's set) makes EXEC fail; validation then starts over.
constexpr int kMaxTransactionTries = 5;

constexpr std::string_view kUsage =
    "usage: switchyard routes|models list               [OPTIONS]\n"
    "       switchyard routes|models get NAME           [OPTIONS]\n"
    "       switchyard routes|models set NAME JSON      [OPTIONS]   add or replace\n"
    "       switchyard routes|models delete NAME        [OPTIONS]   remove, the file's too\n"
    "       switchyard routes|models reset NAME         [OPTIONS]   drop the override\n"
    "options: --config FILE   the config file: its redis.url and prefix, and what set, delete\n"
    "                         and reset are validated against (required for those)\n"
    "         --redis URL     redis://[:password@]host:port[/db] (default: the file's)\n";

int usage_error(std::string_view message) {
  std::fprintf(stderr, "switchyard: %.*s\n%.*s", static_cast<int>(message.size()), message.data(),
               static_cast<int>(kUsage.size()), kUsage.data());
  return 2;
}

// HGETALL's reply as entries in name order.
std::vector<Overrides::Entry> entries_of(const redis::Reply& reply) {
  std::vector<Overrides::Entry> out;
  for (std::size_t i = 0; i + 1 < reply.elements.size(); i += 2)
    out.push_back({reply.elements[i].str, reply.elements[i + 1].str});
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

// Why a command did not do what was asked, or "" when it did.
std::string failure(const redis::Result& result) {
  if (!result) return result.error;
  if (result.reply->is_error()) return "redis answered: " + result.reply->str;
  return {};
}

// Runs `work` on a fresh connection once it is up, on the calling thread; why not when it does
// not come up within the connect timeout.
switchyard::Result<void> with_connection(
    const Redis& config, const std::function<Awaitable<void>(redis::Client&)>& work) {
  const auto settings = redis::Settings::of(config);
  if (!settings) return Unexpected(settings.error());
  asio::io_context io(1);
  redis::Client client(io.get_executor(), settings->url, settings->options);
  client.start();
  bool connected = false;
  asio::co_spawn(
      io,
      [&]() -> Awaitable<void> {
        Timer wait(io.get_executor());
        const auto deadline = std::chrono::steady_clock::now() + config.connect_timeout;
        while (!client.connected() && std::chrono::steady_clock::now() < deadline) {
          wait.expires_after(std::chrono::milliseconds(10));
          co_await wait.async_wait(as_result);
        }
        connected = client.connected();
        if (connected) co_await work(client);
        client.stop();
      },
      asio::detached);
  io.run();
  if (!connected) return Unexpected("cannot connect to Redis at " + settings->url.redacted());
  return {};
}

struct Command {
  std::string_view kind;  // "routes" or "models"
  std::string_view verb;
  std::string name, json;
  std::string config_path;
  std::optional<std::string> redis_url;
};

// Prints the problems of the config that `change` would make, and whether there are none.
bool validate(const Command& c, const Overrides& current, std::string_view value) {
  Overrides next = current;
  auto& entries = c.kind == "routes" ? next.routes : next.models;
  std::erase_if(entries, [&](const auto& e) { return e.name == c.name; });
  if (!value.empty()) entries.push_back({c.name, std::string(value)});
  const auto loaded = load_config_file(c.config_path, process_env(), next);
  for (const auto& d : loaded.errors) std::fprintf(stderr, "%s\n", d.to_string().c_str());
  if (!loaded.errors.empty())
    std::fprintf(stderr, "switchyard: not changed: %zu problem%s\n", loaded.errors.size(),
                 loaded.errors.size() == 1 ? "" : "s");
  return loaded.errors.empty();
}

// set, delete, reset: validated against the file and every other override, then written and
// announced in one transaction that fails if anyone changed the overrides meanwhile.
Awaitable<int> change(redis::Client& redis, const Command& c, std::string_view prefix) {
  const OverrideNames names(prefix);
  const std::string& hash = c.kind == "routes" ? names.routes : names.models;
  // What the hash will hold for the name; empty: nothing (reset).
  const std::string value = c.verb == "set" ? c.json : c.verb == "delete" ? "null" : "";
  const std::string announcement = std::string(c.kind) + " " + c.name;
  for (int attempt = 0; attempt < kMaxTransactionTries; ++attempt) {
    const std::array<std::string_view, 3> watch{"WATCH", names.routes, names.models};
    const redis::Result watched = co_await redis.command(watch);
    std::string why = failure(watched);
    if (!why.empty()) {
      std::fprintf(stderr, "switchyard: %s\n", why.c_str());
      co_return 1;
    }
    const auto current = co_await fetch_overrides(redis, prefix);
    if (!current) {
      std::fprintf(stderr, "switchyard: %s\n", current.error().c_str());
      co_return 1;
    }
    if (!validate(c, *current, value)) co_return 1;
    const std::array<std::string_view, 1> multi{"MULTI"}, exec{"EXEC"};
    const std::array<std::string_view, 4> set{"HSET", hash, c.name, value};
    const std::array<std::string_view, 3> reset{"HDEL", hash, c.name};
    const std::array<std::string_view, 3> publish{"PUBLISH", names.channel, announcement};
    co_await redis.command(multi);
    if (value.empty()) {
      co_await redis.command(reset);
    } else {
      co_await redis.command(set);
    }
    co_await redis.command(publish);
    const redis::Result done = co_await redis.command(exec);
    if (auto failed = failure(done); !failed.empty()) {
      std::fprintf(stderr, "switchyard: %s\n", failed.c_str());
      co_return 1;
    }
    if (done.reply->type == redis::Reply::Type::array) {
      std::printf("%.*s %s: %s\n", static_cast<int>(c.kind.size()), c.kind.data(), c.name.c_str(),
                  c.verb == "set"      ? "set"
                  : c.verb == "delete" ? "deleted"
                                       : "reset to the file");
      co_return 0;
    }
    // nil: the overrides changed under us; validate again against what they are now.
  }
  std::fprintf(stderr, "switchyard: the overrides keep changing; try again\n");
  co_return 1;
}

Awaitable<int> show(redis::Client& redis, const Command& c, std::string_view prefix) {
  const auto current = co_await fetch_overrides(redis, prefix);
  if (!current) {
    std::fprintf(stderr, "switchyard: %s\n", current.error().c_str());
    co_return 1;
  }
  const auto& entries = c.kind == "routes" ? current->routes : current->models;
  if (c.verb == "list") {
    for (const auto& e : entries) std::printf("%s\t%s\n", e.name.c_str(), e.json.c_str());
    co_return 0;
  }
  for (const auto& e : entries) {
    if (e.name != c.name) continue;
    std::printf("%s\n", e.json.c_str());
    co_return 0;
  }
  std::fprintf(stderr, "switchyard: %.*s %s has no override\n", static_cast<int>(c.kind.size()),
               c.kind.data(), c.name.c_str());
  co_return 1;
}

}  // namespace

OverrideNames::OverrideNames(std::string_view prefix)
    : routes(std::string(prefix) + "routes"),
      models(std::string(prefix) + "models"),
      channel(std::string(prefix) + "config") {}

Awaitable<switchyard::Result<Overrides>> fetch_overrides(redis::Client& redis,
                                                         std::string_view prefix) {
  const OverrideNames names(prefix);
  const std::array<std::string_view, 2> routes{"HGETALL", names.routes};
  const std::array<std::string_view, 2> models{"HGETALL", names.models};
  const redis::Result r = co_await redis.command(routes);
  const redis::Result m = co_await redis.command(models);
  for (const auto* result : {&r, &m}) {
    std::string why = failure(*result);
    if (!why.empty()) co_return Unexpected(std::move(why));
  }
  co_return Overrides{entries_of(*r.reply), entries_of(*m.reply)};
}

switchyard::Result<Overrides> fetch_overrides_now(const Redis& config) {
  switchyard::Result<Overrides> fetched = Unexpected("Redis did not answer");
  const auto connected = with_connection(config, [&](redis::Client& redis) -> Awaitable<void> {
    fetched = co_await fetch_overrides(redis, config.prefix);
  });
  if (!connected) return Unexpected(connected.error());
  return fetched;
}

int run_overrides_command(std::string_view kind, std::span<const std::string_view> args) {
  Command c;
  c.kind = kind;
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
    std::fwrite(kUsage.data(), 1, kUsage.size(), stdout);
    return 0;
  }
  std::vector<std::string_view> words;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--config" && i + 1 < args.size()) {
      c.config_path = args[++i];
    } else if (args[i] == "--redis" && i + 1 < args.size()) {
      c.redis_url = std::string(args[++i]);
    } else if (args[i].starts_with("--")) {
      return usage_error("unknown or incomplete option '" + std::string(args[i]) + "'");
    } else {
      words.push_back(args[i]);
    }
  }
  if (words.empty()) return usage_error("expected list, get, set, delete or reset");
  c.verb = words[0];
  const std::size_t expected = c.verb == "list" ? 1 : c.verb == "set" ? 3 : 2;
  const bool known = c.verb == "list" || c.verb == "get" || c.verb == "set" || c.verb == "delete" ||
                     c.verb == "reset";
  if (!known) return usage_error("unknown command '" + std::string(c.verb) + "'");
  if (words.size() != expected)
    return usage_error(std::string(c.verb) + " takes " +
                       (expected == 1   ? "no name"
                        : expected == 2 ? "a NAME"
                                        : "a NAME and JSON"));
  if (expected >= 2) c.name = words[1];
  if (expected == 3) c.json = words[2];
  const bool changes = c.verb == "set" || c.verb == "delete" || c.verb == "reset";
  if (changes && c.config_path.empty())
    return usage_error(std::string(c.verb) + " needs --config FILE to validate the change");

  // Where Redis is: --redis, else the file's; the key prefix is always the file's when given.
  Redis redis;
  if (!c.config_path.empty()) {
    const auto loaded = load_config_file(c.config_path);
    for (const auto& d : loaded.errors) std::fprintf(stderr, "%s\n", d.to_string().c_str());
    if (!loaded.errors.empty()) return 1;
    if (loaded.config->redis) redis = *loaded.config->redis;
  }
  if (c.redis_url) redis.url = *c.redis_url;
  if (redis.url.empty())
    return usage_error("no Redis: give --redis URL, or a config with redis.url");

  int status = 1;
  const auto connected = with_connection(redis, [&](redis::Client& client) -> Awaitable<void> {
    if (changes) {
      status = co_await change(client, c, redis.prefix);
    } else {
      status = co_await show(client, c, redis.prefix);
    }
  });
  if (!connected) {
    std::fprintf(stderr, "switchyard: %s\n", connected.error().c_str());
    return 1;
  }
  return status;
}

}  // namespace switchyard::redis
