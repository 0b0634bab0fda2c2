// A server of transport stdio: newline-delimited JSON-RPC over the standard streams of a child
// process the link runs. One process per server serves every client session of this gateway
// process; the link restarts it with backoff whenever it exits and kills it on stop().
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <charconv>
#include <unordered_map>

#include "links.hpp"
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

// One request waiting for its answer: the reader fills `reply` and cancels the timer.
struct Pending {
  explicit Pending(Executor ex) : timer(ex) {}
  Timer timer;
  std::optional<Reply> reply;
};

class StdioLink final : public ServerLink {
 public:
  StdioLink(Executor executor, const config::McpServer& config)
      : ServerLink(executor, config), backoff_(executor) {}

  ~StdioLink() override {
    if (child_) child_->kill();
  }

  void start() override {
    asio::co_spawn(executor_, supervise(std::static_pointer_cast<StdioLink>(shared_from_this())),
                   asio::detached);
  }

  void stop() override {
    if (stopped_) return;
    ServerLink::stop();
    backoff_.cancel();
    if (child_) child_->kill();
    fail_pending(name() + " was stopped");
  }

 protected:
  Awaitable<Reply> send(std::string_view method, std::string_view params, Millis timeout,
                        Relay* relay) override {
    const auto child = child_;
    if (!child || !child->running())
      co_return Reply{Reply::Status::unavailable, name() + " is not running"};
    const std::uint64_t id = ++next_id_;
    const std::string id_text = std::to_string(id);
    Pending waiting(executor_);
    waiting.timer.expires_after(timeout);
    pending_.emplace(id, &waiting);
    if (relay) {
      relay->on_cancel = [this, &waiting, id_text] {
        waiting.reply = cancelled();
        waiting.timer.cancel();
        send_message(cancelled_notification(id_text, "the client cancelled the request"));
      };
    }
    const bool written =
        co_await child->write_line(api::jsonrpc::request_message(id_text, method, params));
    if (written && !waiting.reply) co_await waiting.timer.async_wait(as_result);
    pending_.erase(id);
    if (relay) relay->on_cancel = nullptr;
    if (waiting.reply) co_return std::move(*waiting.reply);
    if (!written) co_return Reply{Reply::Status::unavailable, name() + " stopped reading"};
    // The server is told to stop working on what nobody waits for any more.
    send_message(cancelled_notification(id_text, "the gateway stopped waiting"));
    co_return Reply{Reply::Status::timeout, name() + " did not answer " + std::string(method) +
                                                " within " + std::to_string(timeout.count()) +
                                                " ms"};
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
        asio::co_spawn(self->executor_, self->initialize(++self->incarnation_), asio::detached);
        while (auto line = co_await child->read_line()) self->on_line(*line);
        // Its stdout is closed; the process is given its grace period to go, so that the log
        // can say how it ended.
        child->kill();
        for (int i = 0; i < kExitPolls && child->running(); ++i) {
          self->backoff_.expires_after(kExitPoll);
          co_await self->backoff_.async_wait(as_result);
        }
        self->child_.reset();
        self->set_ready(std::nullopt);
        self->forget_lists();
        const std::string why = self->name() + " exited (" + child->exit_status() + ")";
        self->fail_pending(why);
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

  Awaitable<void> initialize(std::uint64_t spawn) {
    const auto self = shared_from_this();
    const Reply reply =
        co_await send("initialize", initialize_params(), kInitializeTimeout, nullptr);
    if (spawn != incarnation_ || stopped_) co_return;
    auto info = accept_initialize(reply);
    if (!info) {
      if (child_) child_->kill();
      co_return;
    }
    send_message(api::jsonrpc::request_message({}, "notifications/initialized", {}));
    became_ready(std::move(*info));
  }

  void on_line(std::string_view line) {
    const auto message = api::jsonrpc::read_message(line);
    if (!message) {
      log_event(Level::debug, "mcp_server_output", name() + " wrote a line that is not JSON-RPC");
      return;
    }
    using api::jsonrpc::Kind;
    switch (message->kind) {
      case Kind::result:
      case Kind::error: {
        std::uint64_t id = 0;
        const auto [end, ec] =
            std::from_chars(message->id.data(), message->id.data() + message->id.size(), id);
        const auto it = ec == std::errc() ? pending_.find(id) : pending_.end();
        if (it == pending_.end()) return;  // timed out already, or not ours
        it->second->reply = reply_of(*message);
        it->second->timer.cancel();
        return;
      }
      case Kind::notification:
        // On a process every session shares, a notification is about no one request.
        on_notification(*message, line, nullptr);
        return;
      case Kind::request:
        on_request(*message, sole_relay());
        return;
    }
  }

  void send_message(std::string line) override {
    if (!child_) return;
    asio::co_spawn(
        executor_,
        [c = child_, line = std::move(line)]() -> Awaitable<void> { co_await c->write_line(line); },
        asio::detached);
  }

  void fail_pending(const std::string& why) {
    for (auto& [id, p] : pending_) {
      p->reply = Reply{Reply::Status::unavailable, why};
      p->timer.cancel();
    }
  }

  std::shared_ptr<ChildProcess> child_;  // also held by writers while they write
  std::uint64_t incarnation_ = 0;        // counts spawns: an old initialize must not mark ready
  std::uint64_t next_id_ = 0;
  std::unordered_map<std::uint64_t, Pending*> pending_;
  Timer backoff_;
};

}  // namespace

std::shared_ptr<ServerLink> make_stdio_link(Executor executor, const config::McpServer& config) {
  return std::make_shared<StdioLink>(executor, config);
}

}  // namespace switchyard::mcp
