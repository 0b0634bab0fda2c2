#include "server_sessions.hpp"

#include <algorithm>

namespace switchyard::mcp {
namespace {

constexpr std::chrono::steady_clock::duration kClientIdle = std::chrono::hours(1);

}  // namespace

Awaitable<bool> wait_opened(Slot& slot, std::chrono::steady_clock::time_point deadline) {
  Timer t(co_await asio::this_coro::executor, deadline);
  slot.waiters.push_back(&t);
  co_await t.async_wait(as_result);
  std::erase(slot.waiters, &t);
  co_return slot.open;
}

void finish_opening(Slot& slot, bool open) {
  slot.opening = false;
  slot.open = open;
  for (Timer* t : slot.waiters) t->cancel();
}

std::shared_ptr<Slot> ClientSlots::get(const std::string& nonce, const ServerSession& carried) {
  const auto now = std::chrono::steady_clock::now();
  if (slots_.size() >= sweep_at_) {
    std::erase_if(slots_, [now](const auto& s) {
      return !s.second->opening && s.second->streams == 0 && now - s.second->used > kClientIdle;
    });
    sweep_at_ = std::max<std::size_t>(64, 2 * slots_.size());
  }
  auto& slot = slots_[nonce];
  if (!slot) {
    slot = std::make_shared<Slot>();
    slot->session = carried;
  }
  slot->used = now;
  return slot;
}

std::shared_ptr<Slot> ClientSlots::find(const std::string& nonce) const {
  const auto it = slots_.find(nonce);
  return it == slots_.end() ? nullptr : it->second;
}

}  // namespace switchyard::mcp
