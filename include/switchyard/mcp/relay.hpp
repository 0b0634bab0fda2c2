// What reaches a client while the hub serves its request: the servers' notifications for it
// (progress, log messages) and their requests of the client (sampling, elicitation, roots),
// carried from the hub's thread to the worker's, and then the answer. The worker waits on it and
// turns what arrives into an event stream; the hub's side pushes from its own thread. A client
// that goes away (or cancels) is told to the hub's side through `on_cancel`, which the server
// link sets while the request is with a server.
//
// Example (worker):
//   auto relay = std::make_shared<Relay>(executor);
//   ... hand `relay` to the hub with the request; its answer comes back through finish() ...
//   while (!relay->answer()) {
//     co_await relay->wait();
//     for (std::string& message : relay->take()) write(message);
//   }
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/async.hpp"

namespace switchyard::mcp {

// The outcome of one request to a server, or of a server's request to the client.
struct Reply {
  enum class Status {
    result,       // `body` is the raw result
    error,        // answered with an error: `body` is the raw error object
    unavailable,  // not running or went away before answering: `body` says why
    timeout,      // no answer in time: `body` says so
  };
  Status status = Status::unavailable;
  std::string body;

  bool ok() const { return status == Status::result; }
};

// A request a server sent while it served the client's request (sampling/createMessage,
// elicitation/create, roots/list). Whoever takes it answers it exactly once through `answer`,
// from any thread: the answer goes back to the server under the server's own id.
struct ServerRequest {
  std::string server;  // its name
  std::string method;
  std::string params;  // raw object, or empty
  std::function<void(Reply)> answer;
};

// How long a request waited for one server's list (`/mcp` asks every server for theirs).
struct ListWait {
  std::string server;  // its name
  std::chrono::steady_clock::time_point start;
  std::chrono::microseconds took{0};
  bool ok = false;  // the server's list came in time
};

// One JSON-RPC message as a server-sent event, with an `id` when given.
std::string sse_event(std::string_view message, std::string_view id = {});

class Relay : public std::enable_shared_from_this<Relay> {
 public:
  explicit Relay(Executor worker) : waker_(worker, Timer::time_point::max()) {}

  // Any thread: a JSON-RPC message for the client. Returns how many now wait to be taken.
  std::size_t push(std::string message);
  // Any thread: a server's request of the client.
  void ask(ServerRequest request);
  // The worker's thread: the hub's answer.
  void finish(std::string answer);
  // Any thread: nothing more will come (a session's stream another one replaced).
  void end();
  bool ended() const { return ended_; }

  // The worker's thread: until a message, a request or the answer is there, or the waker is
  // cancelled (Cancellation::watch(&waker()), for a client that hangs up).
  Awaitable<void> wait(Timer::duration at_most = Timer::duration::max());
  std::vector<std::string> take();
  std::vector<ServerRequest> take_requests();
  const std::optional<std::string>& answer() const { return answer_; }
  Timer& waker() { return waker_; }

  // The hub's thread: the request waited for a server's list.
  void waited(ListWait wait);
  // The worker's thread, once the answer is there: the lists the request waited for.
  std::vector<ListWait> waits();

  // The hub's thread: set by the server link while the request is with a server, called when
  // the client cancels it or goes away.
  std::function<void()> on_cancel;
  // The W3C trace context the request carries to HTTP servers (the gateway's span as parent);
  // set before the request is handed over, then only read.
  std::string traceparent;
  // The client's session (its nonce) and the sessions its id carries with HTTP servers, by
  // server: a server's own session for this client, where the request goes. Set before the
  // request is handed over, then only read.
  std::string session;
  std::map<std::string, std::string> upstream;

 private:
  Timer waker_;
  std::mutex mutex_;
  void wake();

  std::deque<std::string> messages_;    // guarded by mutex_
  std::deque<ServerRequest> requests_;  // guarded by mutex_
  std::vector<ListWait> waits_;         // guarded by mutex_
  std::optional<std::string> answer_;
  std::atomic<bool> ended_{false};
};

}  // namespace switchyard::mcp
