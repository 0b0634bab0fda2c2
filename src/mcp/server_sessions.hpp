// The sessions an HTTP link holds with its server: the gateway's own and one per client session,
// each opened again when the server forgets it — one opening at a time, the requests that find
// the session gone meanwhile waiting for that one. On the hub's thread.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "switchyard/async.hpp"
#include "switchyard/upstream/exchange.hpp"

namespace switchyard::mcp {

// A session with the server: its Mcp-Session-Id (none when the server gives none) and the
// protocol version agreed at initialize, both sent with every later message.
struct ServerSession {
  std::string id;
  std::string version;
};

struct Slot {
  ServerSession session;
  bool opening = false;
  bool open = false;  // the last opening succeeded
  std::vector<Timer*> waiters;
  std::chrono::steady_clock::time_point used{};
  // A client session's: how many of its streams (GET) are open here, while the server's stream
  // of the session is read for it.
  unsigned streams = 0;
  bool reading = false;  // the server's stream of the session is being read (or waited for)
  upstream::Exchange* listening = nullptr;
};

// Waits (until `deadline`) for the session another request is opening in `slot`: whether it
// opened.
Awaitable<bool> wait_opened(Slot& slot, std::chrono::steady_clock::time_point deadline);
// The opening in `slot` is over; those waiting go on.
void finish_opening(Slot& slot, bool open);

// The client sessions' slots, by nonce. One unused for an hour (its id, or Redis, still has the
// session) is forgotten.
class ClientSlots {
 public:
  // The slot of `nonce`, made with `carried` (the session the client's id carries) when new.
  std::shared_ptr<Slot> get(const std::string& nonce, const ServerSession& carried);
  std::shared_ptr<Slot> find(const std::string& nonce) const;
  void erase(const std::string& nonce) { slots_.erase(nonce); }
  const std::unordered_map<std::string, std::shared_ptr<Slot>>& all() const { return slots_; }

 private:
  std::unordered_map<std::string, std::shared_ptr<Slot>> slots_;
  std::size_t sweep_at_ = 64;  // swept of idle slots at this size
};

}  // namespace switchyard::mcp
