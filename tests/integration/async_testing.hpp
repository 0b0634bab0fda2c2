// Helpers for tests that drive the async Redis client in-process: a coroutine test body on its
// own io_context, with a time limit, sleeps, polling, and an ASSERT that co_returns.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>
#include <chrono>
#include <exception>
#include <functional>
#include <stdexcept>
#include <string>

#include "switchyard/async.hpp"
#include "switchyard/redis/client.hpp"

namespace switchyard::testing {

using namespace std::chrono_literals;

inline config::RedisUrl parse_url(const std::string& text) {
  auto url = config::RedisUrl::parse(text);
  if (!url) throw std::runtime_error(url.error());
  return *url;
}

// ASSERT_* returns, which a coroutine cannot; this co_returns. (Tests name every awaited value
// first: GCC 12 miscompiles a co_await inside a condition.)
#define CO_ASSERT(condition, message)                        \
  if (!(condition)) {                                        \
    ADD_FAILURE() << #condition << " is false: " << message; \
    co_return;                                               \
  }

// Quick to notice and to come back: the tests wait for reconnects.
inline redis::Options fast_options() {
  redis::Options o;
  o.connect_timeout = 1000ms;
  o.command_timeout = 2000ms;  // generous: a loaded 2-core machine must not fail a test
  o.backoff_min = 20ms;
  o.backoff_max = 200ms;
  return o;
}

// Runs `body` on its own io_context until it finishes; a body still running after `limit`
// fails the test instead of hanging it. The io_context is destroyed with the clients' background
// work still pending, as at a process exit.
inline void run_async(const std::function<Awaitable<void>(Executor)>& body,
                      std::chrono::seconds limit = 60s) {
  asio::io_context io;
  bool done = false;
  std::exception_ptr failure;
  asio::co_spawn(io.get_executor(), body(io.get_executor()), [&](std::exception_ptr e) {
    failure = e;
    done = true;
    io.stop();
  });
  io.run_for(limit);
  EXPECT_TRUE(done) << "the test did not finish within " << limit.count() << " s";
  if (failure) std::rethrow_exception(failure);
}

inline Awaitable<void> sleep_for(std::chrono::milliseconds d) {
  Timer timer(co_await asio::this_coro::executor);
  timer.expires_after(d);
  co_await timer.async_wait(as_result);
}

// Polls `condition` every 10 ms until it holds; a failure named `what` when `limit` passes first.
inline Awaitable<bool> until(std::function<bool()> condition, std::string what,
                             std::chrono::milliseconds limit = 5000ms) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    if (condition()) co_return true;
    if (std::chrono::steady_clock::now() >= deadline) break;
    co_await sleep_for(10ms);
  }
  ADD_FAILURE() << "not within " << limit.count() << " ms: " << what;
  co_return false;
}

}  // namespace switchyard::testing
