// The reuse check of an origin's pool on a real loopback connection: a pooled connection is
// handed out again while the server keeps it open, and never once the server closed it or sent
// something unasked — even when that happened just before the reuse, before the event loop had
// run and could have seen it.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/write.hpp>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "switchyard/upstream/connection.hpp"

namespace switchyard::upstream {
namespace {

using namespace std::chrono_literals;

struct Pooled {
  asio::io_context io;
  Acceptor acceptor{io, {asio::ip::make_address("127.0.0.1"), 0}};
  config::Provider provider;
  std::unique_ptr<Origin> origin;
  Socket server{io};

  // One connection opened by the origin, accepted here and put in the pool.
  Pooled() {
    const auto port = acceptor.local_endpoint().port();
    provider.name = "local";
    provider.base_url = {false, "127.0.0.1", port, "", "127.0.0.1:" + std::to_string(port)};
    origin = std::make_unique<Origin>(io.get_executor(), provider);
    std::unique_ptr<Connection> conn;
    Failure failure;
    asio::co_spawn(
        io, [&]() -> Awaitable<void> { conn = co_await origin->connect(1s, &failure); },
        asio::detached);
    for (int i = 0; i < 100 && !conn && !failure; ++i) io.run_for(10ms);
    if (!conn) throw std::runtime_error("no connection: " + failure.detail);
    server = acceptor.accept();
    origin->put_idle(std::move(conn));
    settle();
  }
  // Lets the event loop run what is ready, then lets loopback deliver what was just sent.
  void settle() {
    io.restart();
    io.poll();
    std::this_thread::sleep_for(20ms);
  }
};

TEST(OriginPool, HandsOutAConnectionTheServerKeepsOpenAgainAndAgain) {
  Pooled p;
  for (int i = 0; i < 3; ++i) {
    auto conn = p.origin->take_idle();
    ASSERT_NE(conn, nullptr) << i;
    p.origin->put_idle(std::move(conn));
    p.settle();
  }
}

TEST(OriginPool, DoesNotHandOutAConnectionTheServerClosedJustBefore) {
  Pooled p;
  p.server.close();
  std::this_thread::sleep_for(20ms);
  // The event loop has not run since the close.
  EXPECT_TRUE(p.origin->take_idle() == nullptr);
  EXPECT_FALSE(p.origin->has_idle());
}

TEST(OriginPool, DoesNotHandOutAConnectionTheServerSentSomethingUnaskedOn) {
  Pooled p;
  asio::write(p.server, asio::buffer(std::string_view("HTTP/1.1 408 Request Timeout\r\n\r\n")));
  std::this_thread::sleep_for(20ms);
  EXPECT_TRUE(p.origin->take_idle() == nullptr);
  EXPECT_FALSE(p.origin->has_idle());
}

}  // namespace
}  // namespace switchyard::upstream
