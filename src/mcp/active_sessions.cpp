#include "switchyard/mcp/active_sessions.hpp"

#include <algorithm>

namespace switchyard::mcp {

void ActiveSessions::sweep(Clock::time_point now) {
  std::erase_if(sessions_, [now](const auto& s) { return now - s.second.last > kActive; });
  swept_ = now;
}

void ActiveSessions::seen(const Session& session, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  // A sweep a minute keeps the table at the sessions of the last kActive and a minute.
  if (now - swept_ > std::chrono::minutes(1)) sweep(now);
  auto [it, added] = sessions_.try_emplace(session.nonce);
  if (added) it->second.session = session;
  it->second.last = now;
  ++it->second.requests;
}

void ActiveSessions::ended(const std::string& nonce) {
  std::lock_guard lock(mutex_);
  sessions_.erase(nonce);
}

std::vector<ActiveSession> ActiveSessions::list(Clock::time_point now) {
  std::lock_guard lock(mutex_);
  sweep(now);
  std::vector<ActiveSession> out;
  out.reserve(sessions_.size());
  for (const auto& [nonce, s] : sessions_) out.push_back(s);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.last > b.last; });
  return out;
}

std::size_t ActiveSessions::count(Clock::time_point now) {
  std::lock_guard lock(mutex_);
  sweep(now);
  return sessions_.size();
}

}  // namespace switchyard::mcp
