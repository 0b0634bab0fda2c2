// The idle half of the upstream connection pool: which connection is reused, which are closed
// when the pool is full, and when an idle connection is too old to trust.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>

#include "switchyard/upstream/idle_list.hpp"

// Outside switchyard::upstream so the fixture can be called IdleList.
namespace {

using namespace std::chrono_literals;

// A clock the test moves by hand.
struct FakeClock {
  using duration = std::chrono::milliseconds;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<FakeClock>;

  static time_point now() { return now_; }
  static void advance(duration d) { now_ += d; }

  static inline time_point now_{};
};

// A connection that counts how many of its kind are open, so a test can see which were closed.
struct Conn {
  explicit Conn(int conn_id) : id(conn_id) { ++open; }
  ~Conn() { --open; }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  int id;
  static inline int open = 0;
};

using List = switchyard::upstream::IdleList<Conn, FakeClock>;

class IdleList : public testing::Test {
 protected:
  void SetUp() override {
    FakeClock::now_ = FakeClock::time_point{} + 1h;
    Conn::open = 0;
  }
  void TearDown() override { EXPECT_EQ(Conn::open, 0) << "a connection leaked"; }

  static void put(List& list, int id) { list.put(std::make_unique<Conn>(id), FakeClock::now()); }
  // The id of the connection take() hands out, or 0 for none.
  static int take(List& list, FakeClock::duration* idle_for = nullptr) {
    const auto conn = list.take(FakeClock::now(), idle_for);
    return conn ? conn->id : 0;
  }
};

TEST_F(IdleList, HasNothingToTakeWhenEmpty) {
  List list(4, 60s);
  EXPECT_EQ(take(list), 0);
  EXPECT_EQ(list.size(), 0u);
}

TEST_F(IdleList, ReusesTheMostRecentlyReturnedConnectionFirst) {
  List list(4, 60s);
  put(list, 1);
  FakeClock::advance(1s);
  put(list, 2);
  FakeClock::advance(1s);
  put(list, 3);
  EXPECT_EQ(take(list), 3);
  put(list, 4);
  EXPECT_EQ(take(list), 4);
  EXPECT_EQ(take(list), 2);
  EXPECT_EQ(take(list), 1);
  EXPECT_EQ(take(list), 0);
}

TEST_F(IdleList, ClosesTheOldestConnectionWhenFull) {
  List list(2, 60s);
  put(list, 1);
  put(list, 2);
  put(list, 3);
  EXPECT_EQ(list.size(), 2u);
  EXPECT_EQ(Conn::open, 2);  // connection 1 was closed, not kept somewhere
  EXPECT_EQ(take(list), 3);
  EXPECT_EQ(take(list), 2);
  EXPECT_EQ(take(list), 0);
}

TEST_F(IdleList, KeepsNothingWhenMaxIdleIsZero) {
  List list(0, 60s);
  put(list, 1);
  EXPECT_EQ(list.size(), 0u);
  EXPECT_EQ(Conn::open, 0);
  EXPECT_EQ(take(list), 0);
}

TEST_F(IdleList, SkipsAndClosesConnectionsIdleLongerThanTheExpiry) {
  List list(4, 10s);
  put(list, 1);
  FakeClock::advance(5s);
  put(list, 2);
  FakeClock::advance(6s);  // 1 has idled 11 s, 2 has idled 6 s
  put(list, 3);
  FakeClock::advance(1s);
  EXPECT_EQ(take(list), 3);
  EXPECT_EQ(take(list), 2);
  EXPECT_EQ(take(list), 0);
  EXPECT_EQ(Conn::open, 0);
}

TEST_F(IdleList, ExpiresEvenTheMostRecentConnectionOnceItIsTooOld) {
  List list(4, 10s);
  put(list, 1);
  FakeClock::advance(9s);
  put(list, 2);
  FakeClock::advance(11s);
  EXPECT_EQ(take(list), 0);
  EXPECT_EQ(list.size(), 0u);
}

TEST_F(IdleList, ReportsHowLongTheTakenConnectionWasIdle) {
  List list(4, 60s);
  put(list, 1);
  FakeClock::advance(3s);
  put(list, 2);
  FakeClock::advance(250ms);
  FakeClock::duration idle_for{};
  EXPECT_EQ(take(list, &idle_for), 2);
  EXPECT_EQ(idle_for, 250ms);
  FakeClock::advance(1s);
  EXPECT_EQ(take(list, &idle_for), 1);
  EXPECT_EQ(idle_for, 4250ms);
}

TEST_F(IdleList, ExpireClosesOnlyTheConnectionsPastTheExpiry) {
  List list(4, 10s);
  put(list, 1);
  FakeClock::advance(4s);
  put(list, 2);
  FakeClock::advance(4s);
  put(list, 3);
  FakeClock::advance(4s);  // idle: 12 s, 8 s, 4 s
  list.expire(FakeClock::now());
  EXPECT_EQ(list.size(), 2u);
  EXPECT_EQ(Conn::open, 2);
  FakeClock::advance(4s);  // idle: 12 s, 8 s
  list.expire(FakeClock::now());
  EXPECT_EQ(list.size(), 1u);
  EXPECT_EQ(take(list), 3);
}

TEST_F(IdleList, ClearClosesEveryConnection) {
  List list(4, 60s);
  put(list, 1);
  put(list, 2);
  list.clear();
  EXPECT_EQ(list.size(), 0u);
  EXPECT_EQ(Conn::open, 0);
  EXPECT_EQ(take(list), 0);
  put(list, 3);
  EXPECT_EQ(take(list), 3);
}

}  // namespace
