// A server of transport http: MCP's Streamable HTTP, the gateway as the client. Each message is
// a POST to the server's endpoint over the hub's pooled (TLS-verified) connections; a request is
// answered with one JSON message or an event stream that ends with the answer. The gateway holds
// a session of its own with the server (lists, pings, the server's stream, subscriptions, log
// levels) and one per client session for what the client asks (tool calls, prompts, reads,
// completion), so that what a server keeps per session stays the client's. A session the server
// forgot (404) is initialized again, transparently. The configured headers (the server's
// credentials, never the client's) go with every message.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "links.hpp"
#include "server_sessions.hpp"
#include "switchyard/api/jsonrpc.hpp"
#include "switchyard/telemetry/request_log.hpp"
#include "switchyard/upstream/exchange.hpp"

namespace switchyard::mcp {
namespace {

using Clock = std::chrono::steady_clock;
using telemetry::Level;
using telemetry::log_event;

class HttpLink final : public ServerLink {
 public:
  HttpLink(Executor executor, const config::McpServer& config)
      : ServerLink(executor, config),
        origin_(executor, origin_of(config, false)),
        listen_origin_(executor, origin_of(config, true)),
        backoff_(executor) {}

  void start() override {
    asio::co_spawn(executor_, connect(std::static_pointer_cast<HttpLink>(shared_from_this())),
                   asio::detached);
  }

  void stop() override {
    ServerLink::stop();
    backoff_.cancel();
    stop_listening();
    for (const auto& [nonce, slot] : clients_.all())
      if (slot->listening) slot->listening->abort();
  }

  bool per_client(const Relay* relay) const override {
    return relay && !relay->session.empty() && !own_.session.id.empty();
  }

  void listen_for_client(const std::string& nonce,
                         const std::map<std::string, std::string>& carried) override {
    const auto slot = client_slot(nonce, carried);
    if (slot->streams++ == 0 && !slot->reading)
      asio::co_spawn(
          executor_,
          listen_client(std::static_pointer_cast<HttpLink>(shared_from_this()), nonce, slot),
          asio::detached);
  }

  void stop_listening_for_client(const std::string& nonce) override {
    const auto slot = clients_.find(nonce);
    if (!slot || slot->streams == 0) return;
    if (--slot->streams == 0 && slot->listening) slot->listening->abort();
  }

  void end_client_session(const std::string& nonce,
                          const std::map<std::string, std::string>& carried) override {
    std::string id;
    if (const auto it = carried.find(config_.name); it != carried.end()) id = it->second;
    if (const auto slot = clients_.find(nonce)) {
      if (slot->listening) slot->listening->abort();
      slot->streams = 0;
      if (!slot->session.id.empty()) id = slot->session.id;
      clients_.erase(nonce);
    }
    if (!id.empty()) send_in(std::move(id), {});
  }

  Awaitable<std::optional<std::string>> open_client_session(std::string nonce,
                                                            Millis timeout) override {
    const auto self = shared_from_this();
    const auto deadline = Clock::now() + timeout;
    // A server without sessions has none per client either; one that is down now gets its
    // session with the client's first request to it.
    if (!info() || own_.session.id.empty()) co_return std::nullopt;
    auto opened = co_await open_session(deadline);
    if (!opened) co_return std::nullopt;
    const std::map<std::string, std::string> none;
    const auto slot = client_slot(nonce, none);
    slot->session = std::move(opened->second);
    co_return slot->session.id;
  }

 protected:
  Awaitable<Reply> send(std::string_view method, std::string_view params, Millis timeout,
                        Relay* relay) override {
    const auto self = shared_from_this();
    const auto deadline = Clock::now() + timeout;
    if (per_client(relay)) co_return co_await send_for_client(relay, method, params, deadline);
    // The gateway's own session subscribes to nothing: the client sessions' own do (a session
    // whose stream moved to this replica keeps its subscriptions with the server).
    if (!own_.session.id.empty() &&
        (method == "resources/subscribe" || method == "resources/unsubscribe"))
      co_return Reply{Reply::Status::result, "{}"};
    const ServerSession used = own_.session;
    Outcome outcome;
    Reply reply = co_await post(method, params, deadline, used, &outcome, relay);
    if (!outcome.rejected) co_return reply;
    // The server forgot the session (restarted, or expired it): a new one, unless another
    // request found out first, and the request again.
    if (used.id == own_.session.id && !own_.opening) {
      log_event(Level::info, "mcp_session_renewed",
                name() + " ended its session; initializing again");
      set_ready(std::nullopt);
    }
    const bool renewed = co_await initialize(deadline);
    if (!renewed) co_return Reply{Reply::Status::unavailable, name() + " is not ready"};
    const ServerSession renewed_session = own_.session;
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

  // The gateway's own session: a new one, or the one another request is opening, or the current
  // one when it is ready. Whether the server is.
  Awaitable<bool> initialize(Clock::time_point deadline) {
    if (info()) co_return true;
    if (own_.opening) co_return co_await wait_opened(own_, deadline);
    own_.opening = true;
    stop_listening();
    auto opened = co_await open_session(deadline);
    if (opened) {
      own_.session = std::move(opened->second);
      became_ready(std::move(opened->first));
    }
    finish_opening(own_, opened.has_value());
    if (!opened) co_return false;
    asio::co_spawn(executor_,
                   listen(std::static_pointer_cast<HttpLink>(shared_from_this()), ++sessions_),
                   asio::detached);
    co_return true;
  }

  // A request of a client session, in its own session with the server.
  Awaitable<Reply> send_for_client(Relay* relay, std::string_view method, std::string_view params,
                                   Clock::time_point deadline) {
    const std::string nonce = relay->session;
    const auto slot = client_slot(nonce, relay->upstream);
    const Reply none_opened{Reply::Status::unavailable,
                            name() + " opened no session for the client"};
    if (slot->session.id.empty()) {
      const std::string none;
      const bool opened = co_await replace(slot, nonce, none, deadline);
      if (!opened) co_return none_opened;
    }
    // A session the server forgot is replaced and the request sent again: twice at most, since
    // the one another replica kept may be gone as well.
    for (int sent = 1;; ++sent) {
      const ServerSession in = slot->session;
      Outcome outcome;
      Reply reply = co_await post(method, params, deadline, in, &outcome, relay);
      if (!outcome.rejected || sent == 3) co_return reply;
      const bool replaced = co_await replace(slot, nonce, in.id, deadline);
      if (!replaced) co_return none_opened;
    }
  }

  // The client session's session with the server, once `rejected` (empty: it had none) is not
  // one: the one another request, or replica (kept_), opened meanwhile, or a new one, kept for
  // the other replicas. Whether there is one.
  Awaitable<bool> replace(std::shared_ptr<Slot> slot, std::string nonce, std::string rejected,
                          Clock::time_point deadline) {
    if (slot->session.id != rejected) co_return true;
    if (slot->opening) co_return co_await wait_opened(*slot, deadline);
    slot->opening = true;
    std::optional<std::string> kept;
    if (kept_) kept = co_await kept_->find(nonce, config_.name);
    if (kept && !kept->empty() && *kept != rejected) {
      slot->session = ServerSession{std::move(*kept), own_.session.version};
      finish_opening(*slot, true);
      co_return true;
    }
    if (!rejected.empty())
      log_event(Level::info, "mcp_session_renewed",
                name() + " ended the session of client session " + nonce + "; initializing again");
    auto opened = co_await open_session(deadline);
    if (opened) {
      slot->session = std::move(opened->second);
      // Kept before the request goes on: the client's next one may reach another replica.
      if (kept_) co_await kept_->keep(nonce, config_.name, slot->session.id);
    }
    finish_opening(*slot, opened.has_value());
    co_return opened.has_value();
  }

  // The server's stream of client session `nonce`'s own session, while the client's stream is
  // open here: what the server says to that session outside its requests goes to it alone
  // (list changes excepted: the gateway's own session tells every client of those).
  static Awaitable<void> listen_client(std::shared_ptr<HttpLink> self, std::string nonce,
                                       std::shared_ptr<Slot> slot) {
    slot->reading = true;
    // However the loop ends:
    const std::shared_ptr<void> done(nullptr, [slot](void*) { slot->reading = false; });
    Millis backoff = kFirstBackoff;
    while (!self->stopped_ && slot->streams > 0) {
      // A server starting (a reload) is waited for; one without sessions has none per client.
      const bool ready = co_await self->ready_within(kInitializeTimeout);
      if (self->stopped_ || slot->streams == 0 || (ready && self->own_.session.id.empty()))
        co_return;
      if (!ready) continue;
      if (slot->session.id.empty()) {
        const std::string none;
        const bool opened =
            co_await self->replace(slot, nonce, none, Clock::now() + kInitializeTimeout);
        if (!opened) co_return;
      }
      const ServerSession in = slot->session;
      const auto began = Clock::now();
      const int status = co_await self->read_server_stream(in, &slot->listening, &nonce);
      if (status == 405 || self->stopped_ || slot->streams == 0) co_return;
      // A refused GET does not replace the session (servers answer 400 or 404 to a GET they do
      // not serve): the client's next request does when the server forgot it, and the next GET
      // goes in the new one.
      co_await self->pause_listening(backoff, began);
    }
  }

  // The slot of client session `nonce`, with the session its id carries (`carried`) when new.
  std::shared_ptr<Slot> client_slot(const std::string& nonce,
                                    const std::map<std::string, std::string>& carried) {
    const auto it = carried.find(config_.name);
    return clients_.get(nonce, it == carried.end()
                                   ? ServerSession{}
                                   : ServerSession{it->second, own_.session.version});
  }

  // Initializes a new session: the server's answer, and the session.
  Awaitable<std::optional<std::pair<ServerInfo, ServerSession>>> open_session(
      Clock::time_point deadline) {
    Outcome outcome;
    const ServerSession none;
    const std::string params = initialize_params();
    const Reply reply = co_await post("initialize", params, deadline, none, &outcome);
    auto info = accept_initialize(reply);
    if (!info) co_return std::nullopt;
    const ServerSession session{std::move(outcome.session_id), info->protocol_version};
    co_await post("notifications/initialized", {}, deadline, session, &outcome);
    co_return std::pair{std::move(*info), session};
  }

  // The server's own stream (GET) for session number `session`: what it says outside any
  // request (log messages, resource updates, list changes) goes to the clients listening. Opened
  // again when it ends, until the session does; a server that offers none (405) is not asked
  // again in this session.
  static Awaitable<void> listen(std::shared_ptr<HttpLink> self, std::uint64_t session) {
    Millis backoff = kFirstBackoff;
    while (!self->stopped_ && session == self->sessions_) {
      const ServerSession in = self->own_.session;
      const auto began = Clock::now();
      const int status = co_await self->read_server_stream(in, &self->own_.listening, nullptr);
      if (status == 405 || self->stopped_ || session != self->sessions_) co_return;
      co_await self->pause_listening(backoff, began);
    }
  }

  // One GET of the server's stream of `session`, read to its end: the status it was answered
  // with (0: none). While it is open, *open points at it, for it to be aborted. `client`: the
  // nonce of the client session whose session it is.
  Awaitable<int> read_server_stream(const ServerSession& session, upstream::Exchange** open,
                                    const std::string* client) {
    const std::string request_head = head(std::nullopt, session);
    upstream::Exchange exchange(listen_origin_);
    *open = &exchange;
    const std::array<asio::const_buffer, 1> request{asio::buffer(request_head)};
    const upstream::Failure failure = co_await exchange.send(request);
    const int status = failure ? 0 : exchange.status();
    if (status == 200 && exchange.is_event_stream())
      co_await read_stream(exchange, {}, nullptr, session.id, client);
    *open = nullptr;
    co_return status;
  }

  // Before a server's stream that ended (opened at `began`) is asked for again: 0.5 s, doubling
  // up to 30 s while it keeps failing; a stream that was open a while ended normally (the
  // server's or a proxy's limit) and starts over at 0.5 s.
  Awaitable<void> pause_listening(Millis& backoff, Clock::time_point began) {
    if (Clock::now() - began > kMaxBackoff) backoff = kFirstBackoff;
    Timer pause(executor_, backoff);
    co_await pause.async_wait(as_result);
    backoff = std::min(backoff * 2, kMaxBackoff);
  }

  void stop_listening() {
    ++sessions_;
    if (own_.listening) own_.listening->abort();
  }

  // A message's head (POST, with its body's length), or without a length the head of the GET that
  // opens the server's own stream, in `session`. `traceparent`: the client request's trace
  // context, when the message is part of one.
  std::string head(std::optional<std::size_t> content_length, const ServerSession& session,
                   std::string_view traceparent = {}, std::string_view verb = {}) const {
    std::string extra;
    if (!session.id.empty()) extra += "Mcp-Session-Id: " + session.id + "\r\n";
    if (!session.version.empty()) extra += "MCP-Protocol-Version: " + session.version + "\r\n";
    if (!traceparent.empty()) extra += "traceparent: " + std::string(traceparent) + "\r\n";
    return request_head(config_, config_.url.path.empty() ? "/" : config_.url.path, content_length,
                        extra, verb);
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
                        Clock::time_point deadline, const ServerSession& session, Outcome* outcome,
                        Relay* relay = nullptr) {
    const bool notification = method.starts_with("notifications/");
    const std::string id = notification ? std::string() : std::to_string(++next_id_);
    const std::string body = api::jsonrpc::request_message(id, method, params);
    const std::string request_head = head(
        body.size(), session, relay ? std::string_view(relay->traceparent) : std::string_view());
    upstream::Exchange exchange(origin_, deadline);
    bool cancelled_here = false;
    if (relay) {
      relay->on_cancel = [this, &exchange, &cancelled_here, id, in = session.id] {
        cancelled_here = true;
        exchange.abort();
        send_message(cancelled_notification(id, "the client cancelled the request"), in);
      };
    }
    const std::array<asio::const_buffer, 2> request{asio::buffer(request_head), asio::buffer(body)};
    Reply reply =
        co_await exchange_message(exchange, request, method, id, session.id, outcome, relay);
    if (relay) relay->on_cancel = nullptr;
    co_return cancelled_here ? cancelled() : std::move(reply);
  }

  Awaitable<Reply> exchange_message(upstream::Exchange& exchange,
                                    std::span<const asio::const_buffer> request,
                                    std::string_view method, const std::string& id,
                                    const std::string& session, Outcome* outcome, Relay* relay) {
    upstream::Failure failure = co_await exchange.send(request);
    if (failure) co_return unreachable(failure);
    const int status = exchange.status();
    if (method == "initialize")
      outcome->session_id = std::string(exchange.header("Mcp-Session-Id"));
    if (status == 202 && id.empty()) co_return Reply{Reply::Status::result, "{}"};
    // The specification says 404 for a session the server no longer knows; servers built on the
    // official TypeScript SDK answer 400 "No valid session ID". Either gets one new session.
    outcome->rejected = (status == 404 || status == 400) && !session.empty();
    if (status != 200)
      co_return Reply{Reply::Status::unavailable, name() + " answered " + std::string(method) +
                                                      " with HTTP " + std::to_string(status)};
    if (exchange.is_event_stream()) co_return co_await read_stream(exchange, id, relay, session);
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

  // An event stream of the server's session `session`: the server's notifications and requests,
  // then the answer to `id` (none for the server's own streams: they are read to their end).
  // `client`: the nonce of the client session whose own stream it is.
  Awaitable<Reply> read_stream(upstream::Exchange& exchange, const std::string& id, Relay* relay,
                               const std::string& session, const std::string* client = nullptr) {
    std::optional<Reply> answer;
    const EventHandler handle = [&](std::string_view, std::string_view data) {
      const auto message = api::jsonrpc::read_message(data);
      if (!message) return true;
      using api::jsonrpc::Kind;
      if (message->kind == Kind::notification && client) {
        if (!message->method.ends_with("/list_changed")) tell_client(*client, data);
      } else if (message->kind == Kind::notification) {
        on_notification(*message, data, relay);
      } else if (message->kind == Kind::request) {
        // On this request's stream, a request of the server's is made while serving it.
        on_request(*message, relay, session);
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

  void send_message(std::string message, std::string session) override {
    send_in(session.empty() ? own_.session.id : std::move(session), std::move(message));
  }

  // A POST of `message` in the server's session `session` (or with no message, a DELETE of the
  // session), in the background: its answer is not waited for.
  void send_in(std::string session, std::string message) {
    auto self = std::static_pointer_cast<HttpLink>(shared_from_this());
    asio::co_spawn(
        executor_,
        [self, message = std::move(message), session = std::move(session)]() -> Awaitable<void> {
          const ServerSession in{session, self->own_.session.version};
          const std::string h = message.empty() ? self->head(std::nullopt, in, {}, "DELETE")
                                                : self->head(message.size(), in);
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
  std::uint64_t sessions_ = 0;  // counts sessions: an old one's stream ends
  Slot own_;                    // the gateway's own session with the server
  ClientSlots clients_;
  std::uint64_t next_id_ = 0;
};

}  // namespace

std::shared_ptr<ServerLink> make_http_link(Executor executor, const config::McpServer& config) {
  return std::make_shared<HttpLink>(executor, config);
}

}  // namespace switchyard::mcp
