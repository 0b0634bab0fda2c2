#include "switchyard/mcp/relay.hpp"

#include <boost/asio/post.hpp>

namespace switchyard::mcp {

std::string sse_event(std::string_view message, std::string_view id) {
  std::string out;
  if (!id.empty()) {
    out += "id: ";
    out += id;
    out += '\n';
  }
  // A message spread over lines (JSON allows it) is one data line each: SSE ends a field at a
  // newline.
  out += "data: ";
  for (const char c : message) {
    if (c == '\n') {
      out += "\ndata: ";
    } else if (c != '\r') {
      out += c;
    }
  }
  out += "\n\n";
  return out;
}

std::size_t Relay::push(std::string message) {
  std::size_t waiting = 0;
  {
    std::lock_guard lock(mutex_);
    messages_.push_back(std::move(message));
    waiting = messages_.size();
  }
  wake();
  return waiting;
}

void Relay::ask(ServerRequest request) {
  {
    std::lock_guard lock(mutex_);
    requests_.push_back(std::move(request));
  }
  wake();
}

void Relay::wake() {
  // The waker belongs to the worker's thread: it is cancelled there. A wake that arrives while
  // nothing waits is harmless: wait() looks at the messages before it waits.
  asio::post(waker_.get_executor(), [self = shared_from_this()] { self->waker_.cancel(); });
}

void Relay::finish(std::string answer) {
  answer_ = std::move(answer);
  waker_.cancel();
}

void Relay::end() {
  ended_ = true;
  wake();
}

Awaitable<void> Relay::wait(Timer::duration at_most) {
  {
    std::lock_guard lock(mutex_);
    if (!messages_.empty() || !requests_.empty() || answer_ || ended_) co_return;
  }
  if (at_most == Timer::duration::max()) {
    waker_.expires_at(Timer::time_point::max());
  } else {
    waker_.expires_after(at_most);
  }
  co_await waker_.async_wait(as_result);
}

std::vector<std::string> Relay::take() {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out(std::make_move_iterator(messages_.begin()),
                               std::make_move_iterator(messages_.end()));
  messages_.clear();
  return out;
}

std::vector<ServerRequest> Relay::take_requests() {
  std::lock_guard lock(mutex_);
  std::vector<ServerRequest> out(std::make_move_iterator(requests_.begin()),
                                 std::make_move_iterator(requests_.end()));
  requests_.clear();
  return out;
}

void Relay::waited(ListWait wait) {
  std::lock_guard lock(mutex_);
  waits_.push_back(std::move(wait));
}

std::vector<ListWait> Relay::waits() {
  std::lock_guard lock(mutex_);
  std::vector<ListWait> out;
  out.swap(waits_);
  return out;
}

}  // namespace switchyard::mcp
