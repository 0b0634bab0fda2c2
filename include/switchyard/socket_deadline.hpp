// SocketDeadline: a time limit on what is pending on a socket, which costs a store to move.
//
// A keep-alive connection's limit moves with every read; re-arming a timer each time is a
// timer-queue insert and removal (and often a timerfd_settime) per read. Here the timer waits for
// the limit set first and, when it fires before the current one (the limit moved later), waits
// again for the rest; only a limit earlier than the timer's re-arms it. When the limit passes,
// the socket's pending operations are cancelled (not the socket closed: the session still owes
// a 408) and expired() says that their operation_aborted was this.
#pragma once

#include <memory>

#include "switchyard/async.hpp"

namespace switchyard {

class SocketDeadline {
 public:
  using Clock = std::chrono::steady_clock;

  explicit SocketDeadline(Socket& socket)
      : state_(std::make_shared<State>(&socket, socket.get_executor())) {}
  ~SocketDeadline() {
    state_->socket = nullptr;  // a handler already queued finds nothing to cancel
    state_->timer.cancel();
  }
  SocketDeadline(const SocketDeadline&) = delete;
  SocketDeadline& operator=(const SocketDeadline&) = delete;

  void expires_at(Clock::time_point at) {
    State& s = *state_;
    s.at = at;
    s.expired = false;
    if (s.waiting && s.timer.expiry() <= at) return;
    s.timer.expires_at(at);
    wait(state_);
  }
  void expires_after(Clock::duration d) { expires_at(Clock::now() + d); }
  // No limit until the next expires_*.
  void expires_never() { state_->at = Clock::time_point::max(); }
  bool expired() const { return state_->expired; }

 private:
  struct State {
    State(Socket* s, const Executor& ex) : socket(s), timer(ex) {}
    Socket* socket;
    Timer timer;
    Clock::time_point at = Clock::time_point::max();
    bool waiting = false;
    bool expired = false;
  };

  static void wait(const std::shared_ptr<State>& state) {
    state->waiting = true;
    state->timer.async_wait([state](boost::system::error_code ec) {
      // Aborted: re-armed (a newer wait is pending) or the owner is gone.
      if (ec == asio::error::operation_aborted || !state->socket) return;
      State& s = *state;
      if (s.at == Clock::time_point::max()) {
        s.waiting = false;
      } else if (Clock::now() < s.at) {
        s.timer.expires_at(s.at);
        wait(state);
      } else {
        s.waiting = false;
        s.expired = true;
        boost::system::error_code ignored;
        s.socket->cancel(ignored);
      }
    });
  }

  std::shared_ptr<State> state_;
};

}  // namespace switchyard
