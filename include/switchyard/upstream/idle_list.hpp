// The idle half of a connection pool: keep-alive connections waiting for their next request,
// most recently used first (a warm connection is reused, an unused one ages out), bounded in
// number and in idle time. Pure bookkeeping so it can be tested without sockets.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>

namespace switchyard::upstream {

template <class Conn, class Clock = std::chrono::steady_clock>
class IdleList {
 public:
  using time_point = typename Clock::time_point;
  using duration = typename Clock::duration;

  IdleList(std::size_t max_idle, duration expiry) : max_(max_idle), expiry_(expiry) {}

  // Takes the most recently returned connection that has not expired, or nullptr; *idle_for
  // says how long it waited.
  std::unique_ptr<Conn> take(time_point now, duration* idle_for = nullptr) {
    expire(now);
    if (idle_.empty()) return nullptr;
    auto conn = std::move(idle_.back().conn);
    if (idle_for) *idle_for = now - idle_.back().since;
    idle_.pop_back();
    return conn;
  }

  // Returns a connection for reuse; the oldest one is dropped when the list is full.
  void put(std::unique_ptr<Conn> conn, time_point now) {
    if (max_ == 0) return;
    if (idle_.size() == max_) idle_.pop_front();
    idle_.push_back(Entry{std::move(conn), now});
  }

  // Drops connections idle for longer than the expiry.
  void expire(time_point now) {
    while (!idle_.empty() && now - idle_.front().since >= expiry_) idle_.pop_front();
  }

  void clear() { idle_.clear(); }
  std::size_t size() const { return idle_.size(); }

 private:
  struct Entry {
    std::unique_ptr<Conn> conn;
    time_point since;
  };
  std::deque<Entry> idle_;  // oldest at the front
  std::size_t max_;
  duration expiry_;
};

}  // namespace switchyard::upstream
