// async_read_answer and SocketDeadline on a real loopback TCP connection: what a reader sees
// (bytes, end of stream, cancellation, expiry), and that an answer read completes both for what
// arrives after it started and for what was already there once more arrives.
#include <gtest/gtest.h>

#include <boost/asio/write.hpp>
#include <string>

#include "switchyard/read_answer.hpp"
#include "switchyard/socket_deadline.hpp"

namespace switchyard {
namespace {

using namespace std::chrono_literals;

struct Pair {
  asio::io_context io;
  Socket ours{io};
  Socket theirs{io};

  Pair() {
    Acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
    ours.connect(acceptor.local_endpoint());
    theirs = acceptor.accept();
    ours.non_blocking(true);
  }
  void send(std::string_view bytes) { asio::write(theirs, asio::buffer(bytes)); }
};

struct Read {
  boost::system::error_code ec;
  std::string data;
  bool done = false;
};

// Starts an answer read of at most `room` bytes that records its outcome in `out`.
void start_read(Pair& p, std::string& buffer, std::size_t room, Read& out) {
  buffer.assign(room, '\0');
  async_read_answer(p.ours, asio::buffer(buffer), [&](boost::system::error_code ec, std::size_t n) {
    out = {ec, buffer.substr(0, n), true};
  });
}

void run_until(Pair& p, const Read& r) {
  p.io.restart();
  for (int i = 0; i < 200 && !r.done; ++i) p.io.run_for(10ms);
}

TEST(ReadAnswer, ReadsWhatArrivesAfterItStarted) {
  Pair p;
  std::string buffer;
  Read r;
  start_read(p, buffer, 64, r);
  p.io.restart();
  p.io.run_for(30ms);
  EXPECT_FALSE(r.done);
  p.send("hello");
  run_until(p, r);
  EXPECT_FALSE(r.ec);
  EXPECT_EQ(r.data, "hello");
}

TEST(ReadAnswer, ReadsWhatWasWaitingOnceMoreArrives) {
  // Not what it is for (an answer cannot precede its request), but nothing is lost: the next
  // edge brings both.
  Pair p;
  std::string buffer;
  Read r;
  p.send("early ");
  p.io.restart();
  p.io.run_for(10ms);
  start_read(p, buffer, 64, r);
  p.send("late");
  run_until(p, r);
  EXPECT_FALSE(r.ec);
  EXPECT_EQ(r.data, "early late");
}

TEST(ReadAnswer, AFullReadLeavesTheRestForTheNext) {
  Pair p;
  std::string buffer;
  Read first, second;
  start_read(p, buffer, 4, first);
  p.send("0123456789");
  run_until(p, first);
  ASSERT_EQ(first.data, "0123");
  buffer.assign(64, '\0');
  p.ours.async_read_some(asio::buffer(buffer), [&](boost::system::error_code ec, std::size_t n) {
    second = {ec, buffer.substr(0, n), true};
  });
  run_until(p, second);
  EXPECT_EQ(second.data, "456789");
}

TEST(ReadAnswer, SeesTheEndOfTheStream) {
  Pair p;
  std::string buffer;
  Read r;
  start_read(p, buffer, 64, r);
  p.theirs.shutdown(Socket::shutdown_send);
  run_until(p, r);
  EXPECT_EQ(r.ec, asio::error::eof);
}

TEST(ReadAnswer, IsCancelledWithTheSocketsOperations) {
  Pair p;
  std::string buffer;
  Read r;
  start_read(p, buffer, 64, r);
  p.io.restart();
  p.io.run_for(10ms);
  p.ours.cancel();
  run_until(p, r);
  EXPECT_EQ(r.ec, asio::error::operation_aborted);
}

TEST(SocketDeadline, CancelsAPendingReadWhenItPasses) {
  Pair p;
  SocketDeadline deadline(p.ours);
  std::string buffer;
  Read r;
  deadline.expires_after(50ms);
  start_read(p, buffer, 64, r);
  const auto start = std::chrono::steady_clock::now();
  run_until(p, r);
  EXPECT_EQ(r.ec, asio::error::operation_aborted);
  EXPECT_TRUE(deadline.expired());
  EXPECT_GE(std::chrono::steady_clock::now() - start, 45ms);
}

TEST(SocketDeadline, MovedLaterItWaitsForTheNewLimit) {
  Pair p;
  SocketDeadline deadline(p.ours);
  std::string buffer;
  Read r;
  deadline.expires_after(30ms);
  start_read(p, buffer, 64, r);
  deadline.expires_after(150ms);
  p.io.restart();
  p.io.run_for(80ms);
  EXPECT_FALSE(r.done) << "expired at the first limit";
  run_until(p, r);
  EXPECT_EQ(r.ec, asio::error::operation_aborted);
  EXPECT_TRUE(deadline.expired());
}

TEST(SocketDeadline, MovedEarlierItExpiresAtTheNewLimit) {
  Pair p;
  SocketDeadline deadline(p.ours);
  std::string buffer;
  Read r;
  deadline.expires_after(10s);
  start_read(p, buffer, 64, r);
  deadline.expires_after(30ms);
  const auto start = std::chrono::steady_clock::now();
  run_until(p, r);
  EXPECT_EQ(r.ec, asio::error::operation_aborted);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
}

TEST(SocketDeadline, NeverLeavesTheReadAlone) {
  Pair p;
  SocketDeadline deadline(p.ours);
  std::string buffer;
  Read r;
  deadline.expires_after(20ms);
  deadline.expires_never();
  start_read(p, buffer, 64, r);
  p.io.restart();
  p.io.run_for(80ms);
  EXPECT_FALSE(r.done);
  EXPECT_FALSE(deadline.expired());
  p.send("x");
  run_until(p, r);
  EXPECT_EQ(r.data, "x");
}

TEST(SocketDeadline, OutlivedByItsTimerDoesNoHarm) {
  Read r;
  {
    Pair p;
    {
      SocketDeadline deadline(p.ours);
      deadline.expires_after(1ms);
    }
    std::string buffer;
    start_read(p, buffer, 64, r);
    p.io.restart();
    p.io.run_for(30ms);
    EXPECT_FALSE(r.done) << "a destroyed deadline cancelled the read";
  }
}

}  // namespace
}  // namespace switchyard
