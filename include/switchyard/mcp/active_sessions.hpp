// The sessions that used this process lately, for /admin/mcp and the sessions gauge. A session
// id is a signed token that no process holds (session.hpp), so a session counts as open here
// while it made a request to this process within kActive: a client that went quiet, or on to
// another replica, drops out, and one that ended (DELETE) at once. Any thread.
//
// Example:
//   sessions.seen(session);         // every request of the session
//   sessions.count();               // switchyard_mcp_sessions_active
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "switchyard/mcp/session.hpp"

namespace switchyard::mcp {

struct ActiveSession {
  Session session;
  std::chrono::steady_clock::time_point last;  // its last request here
  std::uint64_t requests = 0;                  // here, while it stayed active
};

class ActiveSessions {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::minutes kActive{10};

  // A request of `session` arrived (or it began here).
  void seen(const Session& session, Clock::time_point now = Clock::now());
  // The session ended.
  void ended(const std::string& nonce);
  // The sessions active at `now`, the latest request first.
  std::vector<ActiveSession> list(Clock::time_point now = Clock::now());
  std::size_t count(Clock::time_point now = Clock::now());

 private:
  void sweep(Clock::time_point now);  // mutex_ held

  std::mutex mutex_;
  std::unordered_map<std::string, ActiveSession> sessions_;
  Clock::time_point swept_{};
};

}  // namespace switchyard::mcp
