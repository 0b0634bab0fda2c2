// A server of transport stdio: newline-delimited JSON-RPC over the standard streams of a child
// process the link runs. One process per server serves every client session of this gateway
// process; the link restarts it with backoff whenever it exits and kills it on stop().
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "links.hpp"
#include "streamed_link.hpp"
#include "switchyard/api/jsonrpc.hpp"
#include "switchyard/mcp/child_process.hpp"
#include "switchyard/telemetry/request_log.hpp"

namespace switchyard::mcp {
namespace {

using Clock = std::chrono::steady_clock;
using telemetry::Level;
using telemetry::log_event;

// A server that stayed up for a minute starts its backoff over at the first step.
constexpr Millis kStableAfter{60'000};
// How long a server whose stdout closed is watched for its exit (past ChildProcess's 2 s SIGKILL).
constexpr Millis kExitPoll{50};
constexpr int kExitPolls = 60;

class StdioLink final : public StreamedLink {
 public:
  StdioLink(Executor executor, const config::McpServer& config)
      : StreamedLink(executor, config), backoff_(executor) {}

  ~StdioLink() override {
    if (child_) child_->kill();
  }

  void start() override {
    asio::co_spawn(executor_, supervise(std::static_pointer_cast<StdioLink>(shared_from_this())),
                   asio::detached);
  }

  void stop() override {
    if (stopped_) return;
    StreamedLink::stop();
    backoff_.cancel();
    if (child_) child_->kill();
  }

 protected:
  Awaitable<bool> transmit(std::string message, std::string* why) override {
    const auto child = child_;
    if (!child || !child->running()) {
      *why = "not running";
      co_return false;
    }
    const bool written = co_await child->write_line(message);
    if (!written) *why = "stopped reading";
    co_return written;
  }

 protected:
  void start_over() override {
    if (child_) child_->kill();  // supervise() starts the next one
  }

 private:
  // Spawns, reads and respawns until stopped.
  static Awaitable<void> supervise(std::shared_ptr<StdioLink> self) {
    Millis backoff = kFirstBackoff;
    const config::McpServer& c = self->config_;
    while (!self->stopped_) {
      auto child = std::make_shared<ChildProcess>(self->executor_, c.name);
      if (auto started = child->start({c.command, c.args, c.env, c.cwd}); !started) {
        log_event(Level::error, "mcp_server_down", self->name() + ": " + started.error());
      } else {
        const auto began = Clock::now();
        self->child_ = child;
        self->stream_began();
        asio::co_spawn(self->executor_, self->start_session(child), asio::detached);
        while (auto line = co_await child->read_line()) self->on_message(*line);
        // Its stdout is closed; the process is given its grace period to go, so that the log
        // can say how it ended.
        child->kill();
        for (int i = 0; i < kExitPolls && child->running(); ++i) {
          self->backoff_.expires_after(kExitPoll);
          co_await self->backoff_.async_wait(as_result);
        }
        self->child_.reset();
        const std::string why = self->name() + " exited (" + child->exit_status() + ")";
        self->stream_ended(why);
        if (self->stopped_) break;
        if (Clock::now() - began >= kStableAfter) backoff = kFirstBackoff;
        log_event(Level::warn, "mcp_server_down",
                  why + "; restarting in " + std::to_string(backoff.count()) + " ms");
      }
      self->backoff_.expires_after(backoff);
      co_await self->backoff_.async_wait(as_result);
      backoff = std::min(backoff * 2, kMaxBackoff);
    }
  }

  Awaitable<void> start_session(std::shared_ptr<ChildProcess> child) {
    const bool ready = co_await initialize();
    // One that cannot be initialized is restarted: supervise() spawns the next one.
    if (!ready && child == child_) child->kill();
  }

  std::shared_ptr<ChildProcess> child_;  // also held by writers while they write
  Timer backoff_;
};

}  // namespace

std::shared_ptr<ServerLink> make_stdio_link(Executor executor, const config::McpServer& config) {
  return std::make_shared<StdioLink>(executor, config);
}

}  // namespace switchyard::mcp
