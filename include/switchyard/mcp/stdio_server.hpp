// The gateway's side of one upstream MCP server: the client session Switchyard holds with it.
// It initializes the server, sends it requests under ids of its own (so requests of many client
// sessions never collide) and matches the answers back, answers what the server asks of the
// gateway, and keeps the server's lists (tools, prompts, resources) until the server says they
// changed. Everything runs on the hub's thread.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "switchyard/async.hpp"
#include "switchyard/config/config.hpp"
#include "switchyard/mcp/protocol.hpp"

namespace switchyard::mcp {

// The outcome of one request to a server.
struct Reply {
  enum class Status {
    result,       // `body` is the raw result
    error,        // the server answered with an error: `body` is the raw error object
    unavailable,  // it is not running or went away before answering: `body` says why
    timeout,      // no answer in time: `body` says so
  };
  Status status = Status::unavailable;
  std::string body;

  bool ok() const { return status == Status::result; }
};

// The client's answer to a request a server was sent: the server's result or error under the
// client's id, or an internal error saying why there is none.
std::string answer_with(std::string_view id, const Reply& reply);

// A server of transport stdio: a child process the link spawns, initializes and restarts (with
// backoff) whenever it exits, killing it on stop().
class StdioServer {
 public:
  StdioServer(Executor executor, config::McpServer config);
  ~StdioServer();
  StdioServer(const StdioServer&) = delete;
  StdioServer& operator=(const StdioServer&) = delete;

  // Spawns the process and keeps it running until stop().
  void start();
  void stop();

  // A request; `params` a raw JSON object or empty. Waits (within `timeout`) for the server to
  // be ready while it is starting.
  Awaitable<Reply> request(std::string_view method, std::string_view params,
                           config::Millis timeout);
  // Every item of one list, as a raw JSON array; fetched page by page, kept until the server
  // says the list changed or restarts.
  Awaitable<Reply> list(ListKind kind, config::Millis timeout);

  // Null while the server is not initialized.
  const ServerInfo* info() const;
  const config::McpServer& config() const;

 private:
  // Shared with the coroutines that supervise the process, which may outlive this object by a
  // tick after stop().
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace switchyard::mcp
