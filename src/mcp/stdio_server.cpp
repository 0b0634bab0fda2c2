#include "switchyard/mcp/stdio_server.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <charconv>
#include <nlohmann/json.hpp>
#include <unordered_map>
#include <vector>

#include "switchyard/api/jsonrpc.hpp"
#include "switchyard/mcp/child_process.hpp"
#include "switchyard/mcp/protocol.hpp"
#include "switchyard/telemetry/request_log.hpp"

namespace switchyard::mcp {

using config::Millis;

namespace {

using Clock = std::chrono::steady_clock;
using telemetry::Level;
using telemetry::log_event;

// A crashing server is restarted after 0.5 s, then 1, 2, ... up to 30 s between tries; one that
// stayed up for a minute starts over at 0.5 s.
constexpr Millis kFirstBackoff{500};
constexpr Millis kMaxBackoff{30'000};
constexpr Millis kStableAfter{60'000};
// How long a server whose stdout closed is watched for its exit (past ChildProcess's 2 s SIGKILL).
constexpr Millis kExitPoll{50};
constexpr int kExitPolls = 60;
// Spawning and initializing: an interpreter (node, python) may take seconds to start.
constexpr Millis kInitializeTimeout{30'000};
// A list longer than this many pages is a server paging in circles.
constexpr int kMaxPages = 1'000;

// One request waiting for its answer: the reader fills `reply` and cancels the timer.
struct Pending {
  explicit Pending(Executor ex) : timer(ex) {}
  Timer timer;
  std::optional<Reply> reply;
};

}  // namespace

struct StdioServer::State {
  State(Executor ex, config::McpServer c) : executor(ex), config(std::move(c)), backoff(ex) {}

  Executor executor;
  config::McpServer config;
  bool stopped = false;
  std::shared_ptr<ChildProcess> child;  // also held by writers while they write
  std::uint64_t incarnation = 0;        // counts spawns: an old initialize must not mark ready
  std::uint64_t next_id = 0;
  std::unordered_map<std::uint64_t, Pending*> pending;
  std::optional<ServerInfo> info;
  std::vector<Timer*> ready_waiters;
  std::array<std::optional<std::string>, kListKinds> lists;
  std::array<std::uint64_t, kListKinds> list_versions{};  // bumped by list_changed
  Timer backoff;

  std::string name() const { return "mcp server " + config.name; }

  void write(std::string line) {
    if (!child) return;
    asio::co_spawn(
        executor,
        [c = child, line = std::move(line)]() -> Awaitable<void> { co_await c->write_line(line); },
        asio::detached);
  }

  void set_ready(std::optional<ServerInfo> now) {
    info = std::move(now);
    for (Timer* t : ready_waiters) t->cancel();
  }

  void forget_lists() {
    for (std::size_t i = 0; i < kListKinds; ++i) {
      lists[i].reset();
      ++list_versions[i];
    }
  }

  void fail_pending(const std::string& why) {
    for (auto& [id, p] : pending) {
      p->reply = Reply{Reply::Status::unavailable, why};
      p->timer.cancel();
    }
  }

  void list_changed(std::initializer_list<ListKind> kinds) {
    for (ListKind k : kinds) {
      lists[std::size_t(k)].reset();
      ++list_versions[std::size_t(k)];
    }
  }

  void on_line(std::string_view line) {
    auto message = api::jsonrpc::read_message(line);
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
        const auto it = ec == std::errc() ? pending.find(id) : pending.end();
        if (it == pending.end()) return;  // timed out already, or not ours
        const bool ok = message->kind == Kind::result;
        it->second->reply = Reply{ok ? Reply::Status::result : Reply::Status::error,
                                  std::string(ok ? message->result : message->error)};
        it->second->timer.cancel();
        return;
      }
      case Kind::notification:
        if (message->method == "notifications/tools/list_changed") {
          list_changed({ListKind::tools});
        } else if (message->method == "notifications/prompts/list_changed") {
          list_changed({ListKind::prompts});
        } else if (message->method == "notifications/resources/list_changed") {
          list_changed({ListKind::resources, ListKind::resource_templates});
        }
        return;
      case Kind::request:
        // The gateway declares no client capabilities to its servers, so a server asks nothing
        // of it but ping.
        if (message->method == "ping") {
          write(api::jsonrpc::result_response(message->id, "{}"));
        } else {
          write(api::jsonrpc::error_response(message->id, api::jsonrpc::kMethodNotFound,
                                             message->method + " is not offered by the gateway"));
        }
        return;
    }
  }

  // One request now, ready or not (initialize itself goes through here).
  Awaitable<Reply> send(std::string_view method, std::string_view params, Millis timeout) {
    const auto c = child;
    if (!c || !c->running())
      co_return Reply{Reply::Status::unavailable, name() + " is not running"};
    const std::uint64_t id = ++next_id;
    const std::string id_text = std::to_string(id);
    Pending waiting(executor);
    waiting.timer.expires_after(timeout);
    pending.emplace(id, &waiting);
    const bool written =
        co_await c->write_line(api::jsonrpc::request_message(id_text, method, params));
    if (written && !waiting.reply) co_await waiting.timer.async_wait(as_result);
    pending.erase(id);
    if (waiting.reply) co_return std::move(*waiting.reply);
    if (!written) co_return Reply{Reply::Status::unavailable, name() + " stopped reading"};
    // The server is told to stop working on what nobody waits for any more.
    write(api::jsonrpc::request_message(
        {}, "notifications/cancelled",
        R"({"requestId":)" + id_text + R"(,"reason":"the gateway stopped waiting"})"));
    co_return Reply{Reply::Status::timeout, name() + " did not answer " + std::string(method) +
                                                " within " + std::to_string(timeout.count()) +
                                                " ms"};
  }

  Awaitable<bool> wait_ready(Clock::time_point deadline) {
    while (!info && !stopped && Clock::now() < deadline) {
      Timer t(executor, deadline);
      ready_waiters.push_back(&t);
      co_await t.async_wait(as_result);
      std::erase(ready_waiters, &t);
    }
    co_return info.has_value();
  }

  // Spawns, reads and respawns until stopped.
  static Awaitable<void> supervise(std::shared_ptr<State> s);

  Awaitable<void> initialize(std::uint64_t spawn) {
    const nlohmann::json params = {
        {"protocolVersion", std::string(kLatestVersion)},
        {"capabilities", nlohmann::json::object()},
        {"clientInfo", {{"name", "switchyard"}, {"version", SWITCHYARD_VERSION}}},
    };
    Reply reply = co_await send("initialize", params.dump(), kInitializeTimeout);
    if (spawn != incarnation || stopped) co_return;
    std::optional<ServerInfo> got;
    if (reply.ok()) got = read_server_info(reply.body);
    if (!got) {
      log_event(Level::warn, "mcp_server_down",
                name() + " could not be initialized: " +
                    (reply.ok() ? "its answer to initialize is not one this gateway understands"
                                : reply.body));
      if (child) child->kill();
      co_return;
    }
    write(api::jsonrpc::request_message({}, "notifications/initialized", {}));
    log_event(Level::info, "mcp_server_up",
              name() + " is ready (protocol " + got->protocol_version + ")");
    set_ready(std::move(got));
  }
};

Awaitable<void> StdioServer::State::supervise(std::shared_ptr<StdioServer::State> s) {
  Millis backoff = kFirstBackoff;
  while (!s->stopped) {
    auto child = std::make_shared<ChildProcess>(s->executor, s->config.name);
    const ProcessSpec spec{s->config.command, s->config.args, s->config.env, s->config.cwd};
    if (auto started = child->start(spec); !started) {
      log_event(Level::error, "mcp_server_down", s->name() + ": " + started.error());
    } else {
      const auto began = Clock::now();
      s->child = child;
      asio::co_spawn(s->executor, s->initialize(++s->incarnation), asio::detached);
      while (auto line = co_await child->read_line()) s->on_line(*line);
      // Its stdout is closed; the process itself is given its grace period to go, so that the
      // log can say how it ended.
      child->kill();
      for (int i = 0; i < kExitPolls && child->running(); ++i) {
        s->backoff.expires_after(kExitPoll);
        co_await s->backoff.async_wait(as_result);
      }
      s->child.reset();
      s->set_ready(std::nullopt);
      s->forget_lists();
      const std::string why = s->name() + " exited (" + child->exit_status() + ")";
      s->fail_pending(why);
      if (s->stopped) break;
      if (Clock::now() - began >= kStableAfter) backoff = kFirstBackoff;
      log_event(Level::warn, "mcp_server_down",
                why + "; restarting in " + std::to_string(backoff.count()) + " ms");
    }
    s->backoff.expires_after(backoff);
    co_await s->backoff.async_wait(as_result);
    backoff = std::min(backoff * 2, kMaxBackoff);
  }
}

std::string answer_with(std::string_view id, const Reply& reply) {
  switch (reply.status) {
    case Reply::Status::result:
      return api::jsonrpc::result_response(id, reply.body);
    case Reply::Status::error:
      return api::jsonrpc::raw_error_response(id, reply.body);
    case Reply::Status::unavailable:
    case Reply::Status::timeout:
      break;
  }
  return api::jsonrpc::error_response(id, api::jsonrpc::kInternalError, reply.body);
}

StdioServer::StdioServer(Executor executor, config::McpServer config)
    : state_(std::make_shared<State>(executor, std::move(config))) {}

StdioServer::~StdioServer() {
  stop();
}

void StdioServer::start() {
  asio::co_spawn(state_->executor, State::supervise(state_), asio::detached);
}

void StdioServer::stop() {
  if (state_->stopped) return;
  state_->stopped = true;
  state_->backoff.cancel();
  if (state_->child) state_->child->kill();
  state_->fail_pending(state_->name() + " was stopped");
  state_->set_ready(std::nullopt);
}

const config::McpServer& StdioServer::config() const {
  return state_->config;
}

const ServerInfo* StdioServer::info() const {
  return state_->info ? &*state_->info : nullptr;
}

Awaitable<Reply> StdioServer::request(std::string_view method, std::string_view params,
                                      Millis timeout) {
  const auto s = state_;
  const auto deadline = Clock::now() + timeout;
  const bool ready = co_await s->wait_ready(deadline);
  if (!ready) co_return Reply{Reply::Status::unavailable, s->name() + " is not ready"};
  const auto left = std::chrono::duration_cast<Millis>(deadline - Clock::now());
  co_return co_await s->send(method, params, std::max(left, Millis{1}));
}

Awaitable<Reply> StdioServer::list(ListKind kind, Millis timeout) {
  const auto s = state_;
  const auto i = std::size_t(kind);
  if (s->lists[i]) co_return Reply{Reply::Status::result, *s->lists[i]};
  const auto deadline = Clock::now() + timeout;
  const bool ready = co_await s->wait_ready(deadline);
  if (!ready) co_return Reply{Reply::Status::unavailable, s->name() + " is not ready"};
  const ListSpec& spec = list_spec(kind);
  if (!has_capability(*s->info, spec.capability)) co_return Reply{Reply::Status::result, "[]"};
  const std::uint64_t version = s->list_versions[i];
  auto items = nlohmann::json::array();
  std::string cursor;
  for (int page = 0; page < kMaxPages; ++page) {
    const std::string params =
        cursor.empty() ? std::string() : nlohmann::json{{"cursor", cursor}}.dump();
    const auto left = std::chrono::duration_cast<Millis>(deadline - Clock::now());
    Reply reply = co_await s->send(spec.method, params, std::max(left, Millis{1}));
    if (!reply.ok()) co_return reply;
    const auto result = nlohmann::json::parse(reply.body, nullptr, false);
    const auto field = result.is_object() ? result.find(spec.field) : result.end();
    if (field == result.end() || !field->is_array())
      co_return Reply{Reply::Status::unavailable,
                      s->name() + " answered " + std::string(spec.method) + " without a list"};
    for (auto& item : *field) items.push_back(std::move(item));
    const auto next = result.find("nextCursor");
    if (next == result.end() || !next->is_string()) {
      std::string whole = items.dump();
      if (s->list_versions[i] == version) s->lists[i] = whole;
      co_return Reply{Reply::Status::result, std::move(whole)};
    }
    cursor = next->get<std::string>();
  }
  co_return Reply{Reply::Status::unavailable, s->name() + " paged " + std::string(spec.method) +
                                                  " past " + std::to_string(kMaxPages) + " pages"};
}

}  // namespace switchyard::mcp
