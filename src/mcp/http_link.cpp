// A server of transport http: MCP's Streamable HTTP, the gateway as the client. Each message is
// a POST to the server's endpoint over the hub's pooled (TLS-verified) connections; a request is
// answered with one JSON message or an event stream that ends with the answer. The gateway
// holds one session with the server for all of its own clients, initializes it again when the
// server has forgotten it (404), and sends the configured headers (the server's credentials,
// never the client's) with every message.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "links.hpp"
#include "switchyard/api/jsonrpc.hpp"
#include "switchyard/telemetry/request_log.hpp"
#include "switchyard/upstream/exchange.hpp"

namespace switchyard::mcp {
namespace {

using Clock = std::chrono::steady_clock;
using telemetry::Level;
using telemetry::log_event;

// A session with the server: its Mcp-Session-Id (none when the server gives none) and the
// protocol version agreed at initialize, both sent with every later message.
struct Session {
  std::string id;
  std::string version;
};

class HttpLink final : public ServerLink {
 public:
  HttpLink(Executor executor, const config::McpServer& config)
      : ServerLink(executor, config),
        origin_(executor, origin_of(config, false)),
        listen_origin_(executor, origin_of(config, true)),
        backoff_(executor),
        listen_backoff_(executor) {}

  void start() override {
    asio::co_spawn(executor_, connect(std::static_pointer_cast<HttpLink>(shared_from_this())),
                   asio::detached);
  }

  void stop() override {
    ServerLink::stop();
    backoff_.cancel();
    stop_listening();
  }

 protected:
  Awaitable<Reply> send(std::string_view method, std::string_view params, Millis timeout,
                        Relay* relay) override {
    const auto self = shared_from_this();
    const auto deadline = Clock::now() + timeout;
    const Session used = session_;
    Outcome outcome;
    Reply reply = co_await post(method, params, deadline, used, &outcome, relay);
    if (!outcome.rejected) co_return reply;
    // The server forgot the session (restarted, or expired it): a new one, unless another
    // request found out first, and the request again.
    if (used.id == session_.id && !initializing_) {
      log_event(Level::info, "mcp_session_renewed",
                name() + " ended its session; initializing again");
      set_ready(std::nullopt);
    }
    const bool renewed = co_await initialize(deadline);
    if (!renewed) co_return Reply{Reply::Status::unavailable, name() + " is not ready"};
    const Session renewed_session = session_;
    co_return co_await post(method, params, deadline, renewed_session, &outcome, relay);
  }

 protected:
  void start_over() override {
    set_ready(std::nullopt);
    asio::co_spawn(executor_, connect(std::static_pointer_cast<HttpLink>(shared_from_this())),
                   asio::detached);
  }

 private:
  static Awaitable<void> connect(std::shared_ptr<HttpLink> self) {
    Millis backoff = kFirstBackoff;
    while (!self->stopped_) {
      const bool ready = co_await self->initialize(Clock::now() + kInitializeTimeout);
      if (ready || self->stopped_) co_return;
      self->backoff_.expires_after(backoff);
      co_await self->backoff_.async_wait(as_result);
      backoff = std::min(backoff * 2, kMaxBackoff);
    }
  }

  // A new session, or the one being initialized by another request, or the current one when
  // it is ready: whether the server is.
  Awaitable<bool> initialize(Clock::time_point deadline) {
    if (info()) co_return true;
    if (initializing_) co_return co_await wait_opened(deadline);
    initializing_ = true;
    stop_listening();
    const std::optional<ServerInfo> info = co_await open_session(deadline);
    initializing_ = false;
    if (info) became_ready(*info);
    for (Timer* t : opening_waiters_) t->cancel();
    if (!info) co_return false;
    asio::co_spawn(executor_,
                   listen(std::static_pointer_cast<HttpLink>(shared_from_this()), ++sessions_),
                   asio::detached);
    co_return true;
  }

  // Waits for the session another request is opening: whether it opened.
  Awaitable<bool> wait_opened(Clock::time_point deadline) {
    Timer t(executor_, deadline);
    opening_waiters_.push_back(&t);
    co_await t.async_wait(as_result);
    std::erase(opening_waiters_, &t);
    co_return info() != nullptr;
  }

  // Initializes a session of the gateway's own: the server's answer, the session in session_.
  Awaitable<std::optional<ServerInfo>> open_session(Clock::time_point deadline) {
    Outcome outcome;
    const Session none;
    const std::string params = initialize_params();
    const Reply reply = co_await post("initialize", params, deadline, none, &outcome);
    auto info = accept_initialize(reply);
    if (!info) co_return std::nullopt;
    session_ = Session{std::move(outcome.session_id), info->protocol_version};
    co_await post("notifications/initialized", {}, deadline, session_, &outcome);
    co_return info;
  }

  // The server's own stream (GET) for session number `session`: what it says outside any
  // request (log messages, resource updates, list changes) goes to the clients listening. Opened
  // again when it ends, until the session does; a server that offers none (405) is not asked
  // again in this session.
  static Awaitable<void> listen(std::shared_ptr<HttpLink> self, std::uint64_t session) {
    Millis backoff = kFirstBackoff;
    while (!self->stopped_ && session == self->sessions_) {
      const std::string request_head = self->head(std::nullopt, self->session_);
      upstream::Exchange exchange(self->listen_origin_);
      self->listening_ = &exchange;
      const auto began = Clock::now();
      const std::array<asio::const_buffer, 1> request{asio::buffer(request_head)};
      const upstream::Failure failure = co_await exchange.send(request);
      const int status = failure ? 0 : exchange.status();
      if (status == 200 && exchange.is_event_stream())
        co_await self->read_stream(exchange, {}, nullptr);
      self->listening_ = nullptr;
      if (status == 405 || self->stopped_ || session != self->sessions_) co_return;
      // A stream that was open a while ended normally (the server's or a proxy's limit).
      if (Clock::now() - began > kMaxBackoff) backoff = kFirstBackoff;
      self->listen_backoff_.expires_after(backoff);
      co_await self->listen_backoff_.async_wait(as_result);
      backoff = std::min(backoff * 2, kMaxBackoff);
    }
  }

  void stop_listening() {
    ++sessions_;
    listen_backoff_.cancel();
    if (listening_) listening_->abort();
  }

  // A message's head (POST, with its body's length), or without a length the head of the GET that
  // opens the server's own stream, in `session`. `traceparent`: the client request's trace
  // context, when the message is part of one.
  std::string head(std::optional<std::size_t> content_length, const Session& session,
                   std::string_view traceparent = {}) const {
    std::string extra;
    if (!session.id.empty()) extra += "Mcp-Session-Id: " + session.id + "\r\n";
    if (!session.version.empty()) extra += "MCP-Protocol-Version: " + session.version + "\r\n";
    if (!traceparent.empty()) extra += "traceparent: " + std::string(traceparent) + "\r\n";
    return request_head(config_, config_.url.path.empty() ? "/" : config_.url.path, content_length,
                        extra);
  }

  // What a message's exchange says besides the answer.
  struct Outcome {
    bool rejected = false;   // the server does not know the session the message went in
    std::string session_id;  // the session the server's answer to initialize opened
  };

  // One message to the server in `session`; a request's answer (a notification's is "{}" on
  // 202). With a relay, the server's messages about the request go to it, and its on_cancel ends
  // the request.
  Awaitable<Reply> post(std::string_view method, std::string_view params,
                        Clock::time_point deadline, const Session& session, Outcome* outcome,
                        Relay* relay = nullptr) {
    const bool notification = method.starts_with("notifications/");
    const std::string id = notification ? std::string() : std::to_string(++next_id_);
    const std::string body = api::jsonrpc::request_message(id, method, params);
    const std::string request_head = head(
        body.size(), session, relay ? std::string_view(relay->traceparent) : std::string_view());
    upstream::Exchange exchange(origin_, deadline);
    bool cancelled_here = false;
    if (relay) {
      relay->on_cancel = [this, &exchange, &cancelled_here, id] {
        cancelled_here = true;
        exchange.abort();
        send_message(cancelled_notification(id, "the client cancelled the request"));
      };
    }
    const std::array<asio::const_buffer, 2> request{asio::buffer(request_head), asio::buffer(body)};
    Reply reply = co_await exchange_message(exchange, request, method, id, !session.id.empty(),
                                            outcome, relay);
    if (relay) relay->on_cancel = nullptr;
    co_return cancelled_here ? cancelled() : std::move(reply);
  }

  Awaitable<Reply> exchange_message(upstream::Exchange& exchange,
                                    std::span<const asio::const_buffer> request,
                                    std::string_view method, const std::string& id, bool in_session,
                                    Outcome* outcome, Relay* relay) {
    upstream::Failure failure = co_await exchange.send(request);
    if (failure) co_return unreachable(failure);
    const int status = exchange.status();
    if (method == "initialize")
      outcome->session_id = std::string(exchange.header("Mcp-Session-Id"));
    if (status == 202 && id.empty()) co_return Reply{Reply::Status::result, "{}"};
    // The specification says 404 for a session the server no longer knows; servers built on the
    // official TypeScript SDK answer 400 "No valid session ID". Either gets one new session.
    outcome->rejected = (status == 404 || status == 400) && in_session;
    if (status != 200)
      co_return Reply{Reply::Status::unavailable, name() + " answered " + std::string(method) +
                                                      " with HTTP " + std::to_string(status)};
    if (exchange.is_event_stream()) co_return co_await read_stream(exchange, id, relay);
    std::string answer;
    failure = co_await exchange.read_body(answer, kMaxMessage);
    if (failure) co_return unreachable(failure);
    exchange.finish();
    const auto message = api::jsonrpc::read_message(answer);
    if (!message || message->id != id ||
        (message->kind != api::jsonrpc::Kind::result && message->kind != api::jsonrpc::Kind::error))
      co_return Reply{Reply::Status::unavailable,
                      name() + " answered " + std::string(method) + " with no JSON-RPC response"};
    co_return reply_of(*message);
  }

  // An event stream: the server's notifications and requests, then the answer to `id` (none for
  // the server's own stream: it is read to its end).
  Awaitable<Reply> read_stream(upstream::Exchange& exchange, const std::string& id, Relay* relay) {
    std::optional<Reply> answer;
    const EventHandler handle = [&](std::string_view, std::string_view data) {
      const auto message = api::jsonrpc::read_message(data);
      if (!message) return true;
      using api::jsonrpc::Kind;
      if (message->kind == Kind::notification) {
        on_notification(*message, data, relay);
      } else if (message->kind == Kind::request) {
        // On this request's stream, a request of the server's is made while serving it.
        on_request(*message, relay);
      } else if (!id.empty() && message->id == id) {
        // The answer: the stream has nothing more for this request, so it is not read to its
        // end (the connection is closed rather than pooled).
        answer = reply_of(*message);
        return false;
      }
      return true;
    };
    const StreamEnd end = co_await read_events(exchange, handle);
    if (answer) co_return std::move(*answer);
    if (end.failure) co_return unreachable(end.failure);
    co_return Reply{Reply::Status::unavailable, name() + " " + end.why + " without answering"};
  }

  // A POST of its own, whose answer (202) is not waited for.
  void send_message(std::string message) override {
    auto self = std::static_pointer_cast<HttpLink>(shared_from_this());
    asio::co_spawn(
        executor_,
        [self, message = std::move(message)]() -> Awaitable<void> {
          const std::string h = self->head(message.size(), self->session_);
          upstream::Exchange exchange(self->origin_, Clock::now() + self->config_.timeout);
          const std::array<asio::const_buffer, 2> request{asio::buffer(h), asio::buffer(message)};
          co_await exchange.send(request);
        },
        asio::detached);
  }

  Reply unreachable(const upstream::Failure& failure) const {
    return Reply{failure.fault == upstream::Fault::timeout ? Reply::Status::timeout
                                                           : Reply::Status::unavailable,
                 name() + ": " + failure.detail};
  }

  upstream::Origin origin_;
  upstream::Origin listen_origin_;  // the server's own stream's: longer timeouts
  Timer backoff_;
  Timer listen_backoff_;
  upstream::Exchange* listening_ = nullptr;  // the server's own stream, while open
  std::uint64_t sessions_ = 0;               // counts sessions: an old one's stream ends
  bool initializing_ = false;                // a session is being opened
  std::vector<Timer*> opening_waiters_;      // of requests waiting for it
  Session session_;                          // the gateway's own with the server
  std::uint64_t next_id_ = 0;
};

}  // namespace

std::shared_ptr<ServerLink> make_http_link(Executor executor, const config::McpServer& config) {
  return std::make_shared<HttpLink>(executor, config);
}

}  // namespace switchyard::mcp
