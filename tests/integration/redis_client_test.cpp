// The Redis client and subscriber against a real redis-server on loopback: what the gateway
// relies on when Redis is there, when it goes away, and when it stops answering.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>
#include <functional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "async_testing.hpp"
#include "harness.hpp"
#include "switchyard/async.hpp"
#include "switchyard/redis/client.hpp"
#include "switchyard/redis/subscriber.hpp"

namespace switchyard::testing {
namespace {

using redis::Reply;
using Clock = std::chrono::steady_clock;

// "SET k v" as the words of a command.
std::vector<std::string> words_of(const std::string& line) {
  std::vector<std::string> words;
  std::istringstream in(line);
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

// Sends the command until the server answers (the client reconnecting meanwhile).
Awaitable<redis::Result> until_answered(redis::Client& client, std::string line,
                                        std::chrono::milliseconds limit = 10000ms) {
  const std::vector<std::string> words = words_of(line);
  const std::vector<std::string_view> args(words.begin(), words.end());
  const auto deadline = Clock::now() + limit;
  for (;;) {
    redis::Result r = co_await client.command(args);
    if (r || Clock::now() >= deadline) co_return r;
    co_await sleep_for(10ms);
  }
}

// Sends the command until its error says `needle`; the last error. Each attempt must fail at
// once: the client never waits for a connection.
Awaitable<std::string> until_error_says(redis::Client& client, std::string line, std::string needle,
                                        std::chrono::milliseconds limit = 5000ms) {
  const std::vector<std::string> words = words_of(line);
  const std::vector<std::string_view> args(words.begin(), words.end());
  const auto deadline = Clock::now() + limit;
  std::string error;
  for (;;) {
    const auto start = Clock::now();
    const redis::Result r = co_await client.command(args);
    EXPECT_FALSE(r);
    EXPECT_LT(Clock::now() - start, 100ms) << r.error;
    error = r.error;
    if (error.find(needle) != std::string::npos || Clock::now() >= deadline) co_return error;
    co_await sleep_for(10ms);
  }
}

std::chrono::milliseconds since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
}

// "calls=N" of one command in INFO commandstats.
long long command_calls(const std::string& info, const std::string& command) {
  const std::string prefix = "cmdstat_" + command + ":calls=";
  const auto at = info.find(prefix);
  return at == std::string::npos ? 0 : std::stoll(info.substr(at + prefix.size()));
}

TEST(RedisClient, SetThenGetRoundTripsBinarySafeValues) {
  TempDir dir;
  RedisServer server(dir);
  run_async([&](Executor ex) -> Awaitable<void> {
    redis::Client client(ex, parse_url(server.url()), fast_options());
    client.start();
    co_await until([&] { return client.connected(); }, "connected");

    const std::string value("a\0b\r\nc", 6);
    const redis::Result set = co_await client.command("SET", "greeting", value);
    CO_ASSERT(set, set.error);
    EXPECT_EQ(set.reply->type, Reply::Type::status);
    EXPECT_EQ(set.reply->str, "OK");

    const redis::Result get = co_await client.command("GET", "greeting");
    CO_ASSERT(get, get.error);
    EXPECT_EQ(get.reply->type, Reply::Type::string);
    EXPECT_EQ(get.reply->str, value);

    const redis::Result missing = co_await client.command("GET", "nobody");
    CO_ASSERT(missing, missing.error);
    EXPECT_EQ(missing.reply->type, Reply::Type::nil);

    // An error reply is an answer: the Result holds it.
    const redis::Result wrong = co_await client.command("INCR", "greeting");
    CO_ASSERT(wrong, wrong.error);
    EXPECT_TRUE(wrong.reply->is_error());
    EXPECT_NE(wrong.reply->str.find("not an integer"), std::string::npos) << wrong.reply->str;

    const redis::Result pushed = co_await client.command("RPUSH", "list", "x", "y");
    CO_ASSERT(pushed, pushed.error);
    EXPECT_EQ(pushed.reply->integer, 2);
    const redis::Result range = co_await client.command("LRANGE", "list", "0", "-1");
    CO_ASSERT(range, range.error);
    CO_ASSERT(range.reply->elements.size() == 2, range.reply->elements.size());
    EXPECT_EQ(range.reply->type, Reply::Type::array);
    EXPECT_EQ(range.reply->elements[1].str, "y");
    EXPECT_EQ(client.stats().failures, 1u);  // the INCR's error reply
  });
}

TEST(RedisClient, PipelinesAThousandConcurrentCommands) {
  TempDir dir;
  RedisServer server(dir);
  run_async([&](Executor ex) -> Awaitable<void> {
    redis::Client client(ex, parse_url(server.url()), fast_options());
    client.start();
    co_await until([&] { return client.connected(); }, "connected");

    constexpr int kCommands = 1000;
    int answered = 0;
    std::set<long long> seen;
    std::vector<std::string> errors;
    for (int i = 0; i < kCommands; ++i) {
      asio::co_spawn(
          ex,
          [&]() -> Awaitable<void> {
            const redis::Result r = co_await client.command("INCR", "counter");
            if (r && r.reply->type == Reply::Type::integer) {
              seen.insert(r.reply->integer);
            } else {
              errors.push_back(r ? r.reply->str : r.error);
            }
            ++answered;
          },
          asio::detached);
    }
    co_await until([&] { return answered == kCommands; }, "every INCR answered");
    EXPECT_TRUE(errors.empty()) << errors.size() << " failed, the first: " << errors.front();
    // Each INCR saw its own value: every reply went to its own caller.
    EXPECT_EQ(seen.size(), static_cast<std::size_t>(kCommands));
    const redis::Result total = co_await client.command("GET", "counter");
    CO_ASSERT(total, total.error);
    EXPECT_EQ(total.reply->str, "1000");
    EXPECT_EQ(client.stats().failures, 0u);
    EXPECT_EQ(client.stats().connects, 1u);
  });
}

TEST(RedisClient, EvalLoadsTheScriptOnceThenRunsItBySha) {
  TempDir dir;
  RedisServer server(dir);
  run_async([&](Executor ex) -> Awaitable<void> {
    redis::Client client(ex, parse_url(server.url()), fast_options());
    client.start();
    co_await until([&] { return client.connected(); }, "connected");
    const redis::Result reset = co_await client.command("CONFIG", "RESETSTAT");
    CO_ASSERT(reset, reset.error);

    const redis::Script add("return redis.call('INCRBY', KEYS[1], ARGV[1])");
    const std::vector<std::string_view> keys{"total"}, five{"5"};
    const redis::Result first = co_await client.eval(add, keys, five);
    CO_ASSERT(first, first.error);
    EXPECT_EQ(first.reply->integer, 5);
    const redis::Result second = co_await client.eval(add, keys, five);
    CO_ASSERT(second, second.error);
    EXPECT_EQ(second.reply->integer, 10);

    // The first EVALSHA met NOSCRIPT and EVAL loaded the script; the second EVALSHA found it.
    const redis::Result info = co_await client.command("INFO", "commandstats");
    CO_ASSERT(info, info.error);
    EXPECT_EQ(command_calls(info.reply->str, "evalsha"), 2) << info.reply->str;
    EXPECT_EQ(command_calls(info.reply->str, "eval"), 1) << info.reply->str;
    EXPECT_EQ(client.stats().failures, 0u);  // NOSCRIPT is not a failure

    // A script's error is the server's answer.
    const redis::Script broken("return redis.call('NOSUCHCOMMAND')");
    const redis::Result bad = co_await client.eval(broken, {}, {});
    CO_ASSERT(bad, bad.error);
    EXPECT_TRUE(bad.reply->is_error());
  });
}

TEST(RedisClient, UsesTheDatabaseOfTheUrl) {
  TempDir dir;
  RedisServer server(dir);
  run_async([&](Executor ex) -> Awaitable<void> {
    redis::Client db2(ex, parse_url(server.url(2)), fast_options());
    redis::Client db0(ex, parse_url(server.url()), fast_options());
    db2.start();
    db0.start();
    co_await until([&] { return db2.connected() && db0.connected(); }, "both connected");

    const redis::Result set = co_await db2.command("SET", "where", "two");
    CO_ASSERT(set, set.error);
    const redis::Result in_db0 = co_await db0.command("GET", "where");
    CO_ASSERT(in_db0, in_db0.error);
    EXPECT_EQ(in_db0.reply->type, Reply::Type::nil);
    const redis::Result in_db2 = co_await db2.command("GET", "where");
    CO_ASSERT(in_db2, in_db2.error);
    EXPECT_EQ(in_db2.reply->str, "two");

    // A database the server does not have: nothing runs in database 0 instead.
    redis::Client db99(ex, parse_url(server.url(99)), fast_options());
    db99.start();
    const std::string error = co_await until_error_says(db99, "GET where", "SELECT");
    EXPECT_EQ(error, "redis unavailable: SELECT refused: ERR DB index is out of range");
    EXPECT_FALSE(db99.connected());
    EXPECT_EQ(db99.stats().connects, 0u);
  });
}

TEST(RedisClient, AuthenticatesWithThePasswordOfTheUrl) {
  TempDir dir;
  RedisServer server(dir, {.password = "s3cret"});
  run_async([&](Executor ex) -> Awaitable<void> {
    redis::Client plain(ex, parse_url(server.url_with(":s3cret")), fast_options());
    redis::Client acl(ex, parse_url(server.url_with("default:s3cret", 1)), fast_options());
    plain.start();
    acl.start();
    co_await until([&] { return plain.connected() && acl.connected(); }, "both connected");
    const redis::Result set = co_await plain.command("SET", "k", "v");
    CO_ASSERT(set, set.error);
    EXPECT_EQ(set.reply->str, "OK");
    const redis::Result get = co_await acl.command("GET", "k");
    CO_ASSERT(get, get.error);
    EXPECT_EQ(get.reply->type, Reply::Type::nil);  // database 1
  });
}

TEST(RedisClient, ReportsAWrongOrMissingPasswordAndKeepsRunning) {
  TempDir dir;
  RedisServer server(dir, {.password = "s3cret"});
  run_async([&](Executor ex) -> Awaitable<void> {
    redis::Client wrong(ex, parse_url(server.url_with(":guess")), fast_options());
    redis::Client none(ex, parse_url(server.url()), fast_options());
    wrong.start();
    none.start();
    const std::string error = co_await until_error_says(wrong, "GET k", "WRONGPASS");
    EXPECT_EQ(error.rfind("redis unavailable: AUTH refused: WRONGPASS", 0), 0u) << error;
    EXPECT_EQ(error.find("guess"), std::string::npos) << error;
    const std::string without = co_await until_error_says(none, "GET k", "NOAUTH");
    EXPECT_EQ(without.rfind("redis unavailable: PING refused: NOAUTH", 0), 0u) << without;
    EXPECT_FALSE(wrong.connected());
    EXPECT_EQ(wrong.stats().connects, 0u);
  });
}

TEST(RedisClient, FailsFastWhileRedisIsDownAndReconnectsByItself) {
  TempDir dir;
  RedisServer server(dir);
  run_async([&](Executor ex) -> Awaitable<void> {
    redis::Client client(ex, parse_url(server.url()), fast_options());
    client.start();
    co_await until([&] { return client.connected(); }, "connected");
    const redis::Result set = co_await client.command("SET", "k", "v");
    CO_ASSERT(set, set.error);

    server.kill();
    co_await until([&] { return !client.connected(); }, "disconnected");
    const auto start = Clock::now();
    const redis::Result down = co_await client.command("GET", "k");
    EXPECT_LT(since(start), 100ms);  // the command timeout is 2000 ms: nothing waited for it
    EXPECT_FALSE(down);
    EXPECT_EQ(down.error.rfind("redis unavailable", 0), 0u) << down.error;

    server.restart();
    const redis::Result back = co_await until_answered(client, "SET k again");
    EXPECT_TRUE(back) << back.error;
    EXPECT_TRUE(client.connected());
    EXPECT_EQ(client.stats().connects, 2u);
    EXPECT_EQ(client.stats().disconnects, 1u);
  });
}

TEST(RedisClient, FailsAtOnceWhenThereIsNoServer) {
  TempDir dir;
  RedisServer server(dir);
  server.kill();
  run_async([&](Executor ex) -> Awaitable<void> {
    redis::Client client(ex, parse_url(server.url()), fast_options());
    const redis::Result before_start = co_await client.command("PING");
    EXPECT_EQ(before_start.error, "redis unavailable");
    client.start();
    const std::string error = co_await until_error_says(client, "PING", "refused");
    EXPECT_EQ(error, "redis unavailable: Connection refused");
  });
}

TEST(RedisClient, TimesOutOnAStoppedServerAndRecoversWhenItContinues) {
  TempDir dir;
  RedisServer server(dir);
  run_async([&](Executor ex) -> Awaitable<void> {
    redis::Options options = fast_options();
    options.command_timeout = 250ms;
    options.connect_timeout = 300ms;
    redis::Client client(ex, parse_url(server.url()), options);
    client.start();
    co_await until([&] { return client.connected(); }, "connected");

    server.process().signal(SIGSTOP);
    const auto start = Clock::now();
    const redis::Result stalled = co_await client.command("GET", "k");
    const auto waited = since(start);
    EXPECT_FALSE(stalled);
    EXPECT_EQ(stalled.error, "timed out after 250 ms");
    EXPECT_GE(waited, 250ms);
    EXPECT_LT(waited, 1000ms);
    EXPECT_EQ(client.stats().timeouts, 1u);
    // The connection is given up: the next command does not wait for the stopped server.
    EXPECT_FALSE(client.connected());
    // Stopped for longer than connect_timeout: reconnecting meets a kernel that completes the
    // TCP handshake and a server that never answers; commands keep failing at once meanwhile.
    const auto stopped_until = Clock::now() + 800ms;
    while (Clock::now() < stopped_until) {
      const auto again = Clock::now();
      const redis::Result next = co_await client.command("GET", "k");
      EXPECT_FALSE(next);
      EXPECT_EQ(next.error.rfind("redis unavailable", 0), 0u) << next.error;
      EXPECT_LT(since(again), 100ms);
      EXPECT_FALSE(client.connected());
      co_await sleep_for(20ms);
    }
    EXPECT_EQ(client.stats().connects, 1u);

    server.process().signal(SIGCONT);
    const redis::Result back = co_await until_answered(client, "GET k");
    EXPECT_TRUE(back) << back.error;
    EXPECT_TRUE(client.connected());
  });
}

TEST(RedisClient, StopCompletesWaitingCommandsWithAnError) {
  TempDir dir;
  RedisServer server(dir);
  run_async([&](Executor ex) -> Awaitable<void> {
    redis::Client client(ex, parse_url(server.url()), fast_options());
    client.start();
    co_await until([&] { return client.connected(); }, "connected");

    server.process().signal(SIGSTOP);  // so that the command waits
    std::optional<redis::Result> result;
    asio::co_spawn(
        ex, [&]() -> Awaitable<void> { result = co_await client.command("GET", "k"); },
        asio::detached);
    co_await sleep_for(50ms);
    EXPECT_FALSE(result.has_value());
    client.stop();
    co_await until([&] { return result.has_value(); }, "the command completed", 500ms);
    if (result) {
      EXPECT_EQ(result->error, "connection lost: client stopped");
    }
    EXPECT_FALSE(client.connected());
    const redis::Result after = co_await client.command("GET", "k");
    EXPECT_EQ(after.error.rfind("redis unavailable", 0), 0u) << after.error;
    server.process().signal(SIGCONT);
  });
}

TEST(RedisClient, StopLeavesNoWorkBehind) {
  TempDir dir;
  RedisServer server(dir);
  RedisServer gone(dir);
  gone.kill();
  // What a one-shot tool relies on: io_context::run() returns once its clients are stopped,
  // whether connected or still retrying.
  asio::io_context io;
  redis::Client up(io.get_executor(), parse_url(server.url()), fast_options());
  redis::Client down(io.get_executor(), parse_url(gone.url()), fast_options());
  up.start();
  down.start();
  asio::co_spawn(
      io,
      [&]() -> Awaitable<void> {
        co_await until([&] { return up.connected(); }, "connected");
        const redis::Result ping = co_await up.command("PING");
        EXPECT_TRUE(ping) << ping.error;
        co_await sleep_for(100ms);  // `down` is between attempts now
        up.stop();
        down.stop();
      },
      asio::detached);
  io.run_for(10s);
  EXPECT_TRUE(io.stopped()) << "work left after stop()";
}

TEST(RedisClient, DestroyingTheClientCompletesWaitingCommands) {
  TempDir dir;
  RedisServer server(dir);
  run_async([&](Executor ex) -> Awaitable<void> {
    auto client = std::make_unique<redis::Client>(ex, parse_url(server.url()), fast_options());
    client->start();
    co_await until([&] { return client->connected(); }, "connected");

    server.process().signal(SIGSTOP);  // so that the commands wait
    std::vector<redis::Result> results;
    for (int i = 0; i < 3; ++i) {
      asio::co_spawn(
          ex, [&]() -> Awaitable<void> { results.push_back(co_await client->command("GET", "k")); },
          asio::detached);
    }
    co_await sleep_for(50ms);
    EXPECT_TRUE(results.empty());
    client.reset();
    co_await until([&] { return results.size() == 3; }, "the commands completed", 500ms);
    for (const redis::Result& r : results) EXPECT_EQ(r.error, "connection lost: client stopped");
    server.process().signal(SIGCONT);
  });
}

TEST(RedisClient, ConnectsToAHostName) {
  TempDir dir;
  RedisServer server(dir);
  run_async([&](Executor ex) -> Awaitable<void> {
    // localhost may resolve to ::1 first, where this server does not listen.
    redis::Client client(ex, parse_url("redis://localhost:" + std::to_string(server.port())),
                         fast_options());
    client.start();
    co_await until([&] { return client.connected(); }, "connected");
    const redis::Result ping = co_await client.command("PING");
    CO_ASSERT(ping, ping.error);
    EXPECT_EQ(ping.reply->str, "PONG");
  });
}

TEST(RedisClient, RefusesSubscribeCommands) {
  TempDir dir;
  RedisServer server(dir);
  run_async([&](Executor ex) -> Awaitable<void> {
    redis::Client client(ex, parse_url(server.url()), fast_options());
    client.start();
    co_await until([&] { return client.connected(); }, "connected");
    const redis::Result r = co_await client.command("subscribe", "news");
    EXPECT_FALSE(r);
    EXPECT_NE(r.error.find("Subscriber"), std::string::npos) << r.error;
    const redis::Result ping = co_await client.command("PING");
    CO_ASSERT(ping, ping.error);
    EXPECT_EQ(ping.reply->str, "PONG");
  });
}

TEST(RedisSubscriber, ReceivesMessagesAndResubscribesAfterARestart) {
  TempDir dir;
  RedisServer server(dir, {.password = "s3cret"});
  using Message = std::pair<std::string, std::string>;
  run_async([&](Executor ex) -> Awaitable<void> {
    const config::RedisUrl url = parse_url(server.url_with(":s3cret"));
    std::vector<Message> messages;
    int connects = 0;
    redis::Subscriber subscriber(
        ex, url, {"news", "other"},
        [&](std::string_view channel, std::string_view message) {
          messages.emplace_back(channel, message);
        },
        [&] { ++connects; }, fast_options());
    redis::Client publisher(ex, url, fast_options());
    subscriber.start();
    publisher.start();
    co_await until([&] { return subscriber.connected() && publisher.connected(); },
                   "both connected");
    EXPECT_EQ(connects, 1);

    const redis::Result published = co_await publisher.command("PUBLISH", "news", "hello");
    CO_ASSERT(published, published.error);
    EXPECT_EQ(published.reply->integer, 1);  // one subscriber heard it
    co_await until([&] { return messages.size() == 1; }, "the message arrived");
    if (messages.size() == 1) {
      EXPECT_EQ(messages[0], Message("news", "hello"));
    }

    server.restart();
    co_await until([&] { return connects == 2 && subscriber.connected(); }, "resubscribed",
                   10000ms);
    const redis::Result again = co_await until_answered(publisher, "PUBLISH other again");
    CO_ASSERT(again, again.error);
    EXPECT_EQ(again.reply->integer, 1);
    co_await until([&] { return messages.size() == 2; }, "the second message arrived");
    if (messages.size() == 2) {
      EXPECT_EQ(messages[1], Message("other", "again"));
    }
  });
}

TEST(RedisSubscriber, MayStopFromItsOwnMessageHandler) {
  TempDir dir;
  RedisServer server(dir);
  run_async([&](Executor ex) -> Awaitable<void> {
    const config::RedisUrl url = parse_url(server.url());
    int messages = 0;
    std::optional<redis::Subscriber> subscriber;
    subscriber.emplace(
        ex, url, std::vector<std::string>{"news"},
        [&](std::string_view, std::string_view) {
          ++messages;
          subscriber->stop();  // from inside hiredis's callback
        },
        nullptr, fast_options());
    redis::Client publisher(ex, url, fast_options());
    subscriber->start();
    publisher.start();
    co_await until([&] { return subscriber->connected() && publisher.connected(); },
                   "both connected");
    const redis::Result first = co_await publisher.command("PUBLISH", "news", "one");
    CO_ASSERT(first, first.error);
    co_await until([&] { return messages == 1; }, "the message arrived");
    co_await until([&] { return !subscriber->connected(); }, "stopped");
    // Gone for good: the server has no subscriber any more, and nothing reconnects.
    co_await sleep_for(100ms);
    const redis::Result second = co_await publisher.command("PUBLISH", "news", "two");
    CO_ASSERT(second, second.error);
    EXPECT_EQ(second.reply->integer, 0);
    EXPECT_EQ(messages, 1);
    subscriber.reset();
  });
}

}  // namespace
}  // namespace switchyard::testing
