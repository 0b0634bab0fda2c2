// A server whose every message to the gateway comes on one stream the link reads — a child
// process's stdout (stdio), or the event stream of the 2024-11-05 HTTP+SSE transport — so that a
// request's answer is matched to it by the gateway's id, and a server's request or notification
// cannot say which client request it is about. The transport sends (transmit) and reads (calling
// on_message for each message); this class keeps the requests waiting for their answers.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "switchyard/mcp/server_link.hpp"

namespace switchyard::mcp {

class StreamedLink : public ServerLink {
 public:
  void stop() override;

 protected:
  StreamedLink(Executor executor, config::McpServer config)
      : ServerLink(executor, std::move(config)) {}

  // One message to the server; false when it could not be sent (why, in *why).
  virtual Awaitable<bool> transmit(std::string message, std::string* why) = 0;

  Awaitable<Reply> send(std::string_view method, std::string_view params, Millis timeout,
                        Relay* relay) override;
  void send_message(std::string message, std::string session = {}) override;
  // A message the server sent (one line, one event's data).
  void on_message(std::string_view message);
  // A new stream begins (a process spawned, a connection opened).
  void stream_began() { ++streams_; }
  // The stream ended: the server is not ready, and every request waiting fails with `why`.
  void stream_ended(const std::string& why);
  // Initializes the server over the current stream: true once it is ready.
  Awaitable<bool> initialize();

 private:
  // One request waiting for its answer: on_message fills `reply` and cancels the timer.
  struct Pending {
    explicit Pending(Executor ex) : timer(ex) {}
    Timer timer;
    std::optional<Reply> reply;
  };
  void fail_pending(const std::string& why);

  std::uint64_t next_id_ = 0;
  std::unordered_map<std::uint64_t, Pending*> pending_;
  std::uint64_t streams_ = 0;  // counts streams: an earlier one's initialize must not count
};

}  // namespace switchyard::mcp
