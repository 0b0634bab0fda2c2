// The gateway's Redis client: hiredis's asynchronous API driven by a worker's io_context, so a
// command is a co_await that never blocks the thread. One Client per worker thread (nothing on
// the request path is shared between threads); it connects in the background, reconnects by
// itself, and while Redis is away every command fails at once instead of queueing, so callers
// fall back to their local state without waiting.
#pragma once

#include <boost/container/small_vector.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "switchyard/async.hpp"
#include "switchyard/config/redis_url.hpp"

struct redisReply;  // hiredis

namespace switchyard::redis {

// A reply, copied out of hiredis's redisReply so that it outlives the callback.
struct Reply {
  enum class Type { nil, integer, string, status, error, array };
  Type type = Type::nil;
  long long integer = 0;
  std::string str;  // string, status and error replies
  std::vector<Reply> elements;

  bool is_error() const { return type == Type::error; }
};

// The copy of one reply hiredis read off the wire (a nil or unknown type is nil).
Reply copy_reply(const ::redisReply& r);

struct Options {
  // To connect, including AUTH and SELECT (or a PING) being answered.
  std::chrono::milliseconds connect_timeout{1000};
  // From a command being sent to its reply. A command that takes longer means the server is not
  // answering (stopped, black-holed): the connection is dropped and made again.
  std::chrono::milliseconds command_timeout{250};
  // Reconnecting waits backoff_min plus a random part that doubles with every failed attempt,
  // up to backoff_max in all.
  std::chrono::milliseconds backoff_min{100};
  std::chrono::milliseconds backoff_max{5000};
};

// A command's outcome: the server's reply — an error reply included — or why there is none:
// "redis unavailable…" (not connected: the command was not sent), "timed out after 250 ms",
// "connection lost…".
struct Result {
  std::optional<Reply> reply;
  std::string error;

  // The server answered (possibly with an error reply).
  explicit operator bool() const { return reply.has_value(); }
};

// A Lua script and its SHA-1, the name EVALSHA knows it by.
class Script {
 public:
  explicit Script(std::string lua);
  const std::string& text() const { return text_; }
  const std::string& sha1() const { return sha1_; }  // 40 lower-case hex digits

 private:
  std::string text_;
  std::string sha1_;
};

// What command("SET", key, value) takes: anything a string_view can view.
template <class T>
concept Word = std::is_convertible_v<const T&, std::string_view>;

// One connection to one server. Not thread-safe: every call, and every co_await of a command, on
// the thread running the executor's io_context.
class Client {
 public:
  Client(Executor ex, config::RedisUrl url, Options options = {});
  // Ends the connection; commands still waiting complete with an error.
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Connects in the background, and again whenever the connection is lost, with jittered
  // exponential backoff, until stop(). AUTH (when the URL has a password) and SELECT (when its db
  // is not 0) go first on every new connection; commands are accepted once they are answered.
  void start();
  // Disconnects for good: no more reconnects; commands waiting complete with an error.
  void stop();
  bool connected() const;

  // One command, as its words, binary-safe. Back-to-back commands are pipelined on the one
  // connection. While not connected it completes at once with "redis unavailable…": never
  // queued, never waiting for a reconnect. (P)SUBSCRIBE and MONITOR are refused (see
  // Subscriber). The words are read when the command is awaited: await it in the expression that
  // makes it (the views must outlive the co_await).
  Awaitable<Result> command(std::span<const std::string_view> args);
  // The same with the words as arguments: command("SET", key, value). Not a braced list: GCC 12
  // cannot keep an initializer_list's array alive across a co_await ("array used as
  // initializer"), so the views are copied into the operation instead.
  template <Word First, Word... Rest>
  Awaitable<Result> command(const First& first, const Rest&... rest) {
    return command_words(WordList{std::string_view(first), std::string_view(rest)...});
  }
  // EVALSHA, then EVAL when the server answers NOSCRIPT (a restarted or flushed server); the next
  // call tries EVALSHA again, which the server then knows.
  Awaitable<Result> eval(const Script& script, std::span<const std::string_view> keys,
                         std::span<const std::string_view> args = {});

  struct Stats {
    std::uint64_t commands = 0;
    std::uint64_t failures = 0;  // unavailable, timed out, connection lost, error replies
    std::uint64_t timeouts = 0;
    std::uint64_t connects = 0;
    std::uint64_t disconnects = 0;
    Stats& operator+=(const Stats& o) {
      commands += o.commands;
      failures += o.failures;
      timeouts += o.timeouts;
      connects += o.connects;
      disconnects += o.disconnects;
      return *this;
    }
  };
  // Any thread: counted with atomics.
  Stats stats() const;

 private:
  class Impl;
  using WordList = boost::container::small_vector<std::string_view, 8>;
  Awaitable<Result> command_words(WordList words);

  // Shared with the background connection loop and with hiredis's callbacks, which may run
  // after the Client is gone.
  std::shared_ptr<Impl> impl_;
};

}  // namespace switchyard::redis
