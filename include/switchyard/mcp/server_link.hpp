// The gateway's side of one upstream MCP server: the client session Switchyard holds with it.
// A link initializes the server, sends it requests under ids of its own (so that requests of
// many client sessions never collide) and matches the answers back, hands what the server asks
// of its client while serving a request (sampling, elicitation, roots) to that request's relay,
// and keeps the server's lists (tools, prompts, resources) until the server says they changed.
// One subclass per transport: stdio (a child process the link runs) and Streamable HTTP.
// Everything runs on the hub's thread.
#pragma once

#include <array>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "switchyard/api/jsonrpc.hpp"
#include "switchyard/async.hpp"
#include "switchyard/config/config.hpp"
#include "switchyard/mcp/protocol.hpp"
#include "switchyard/mcp/relay.hpp"

namespace switchyard::mcp {

using config::Millis;

// A response message as the Reply it carries.
Reply reply_of(const api::jsonrpc::Message& response);

// The client's answer to a request a server was sent: the server's result or error under the
// client's id, or an internal error saying why there is none.
std::string answer_with(std::string_view id, const Reply& reply);

// Where the sessions client sessions open with servers after their ids were issued (a server
// forgot the one the id carries) are kept for the other replicas: by the client session's nonce
// and the server's name. Set on a link by the hub when Redis is configured.
struct KeptSessions {
  std::function<Awaitable<std::optional<std::string>>(std::string nonce, std::string server)> find;
  std::function<Awaitable<void>(std::string nonce, std::string server, std::string id)> keep;
};

class ServerLink : public std::enable_shared_from_this<ServerLink> {
 public:
  virtual ~ServerLink() = default;
  ServerLink(const ServerLink&) = delete;
  ServerLink& operator=(const ServerLink&) = delete;

  // Connects (spawns, for stdio) and keeps the server available until stop().
  virtual void start() = 0;
  virtual void stop();

  // A request; `params` a raw JSON object or empty. Waits (within `timeout`) for the server to
  // be ready while it is starting. With a `relay`, what the server sends about the request
  // (progress under the client's own token, and over HTTP its log messages) is pushed to it, and
  // the relay's on_cancel stops the request at the server.
  Awaitable<Reply> request(std::string_view method, std::string_view params, Millis timeout,
                           Relay* relay = nullptr);
  // Whether the server is initialized, waiting for it within `timeout` while it starts.
  Awaitable<bool> ready_within(Millis timeout);
  // Every item of one list, as a raw JSON array; fetched page by page, kept until the server
  // says the list changed or the link starts over.
  Awaitable<Reply> list(ListKind kind, Millis timeout);

  // Pings the server every `interval` while it is up (0: not at all); after two missed pings in a
  // row the link starts over. May be called again (a reload) to change the pace.
  void watch_health(Millis interval, Millis timeout);
  // Pings missed in a row right now, and whether the server is initialized: any thread (health).
  unsigned missed_pings() const { return missed_pings_; }
  bool up() const { return up_; }

  // Where the server's notifications for clients go when they are about no one request (list
  // changes, resource updates, log messages): set by the hub before start().
  using Listener = std::function<void(
      std::string_view server, const api::jsonrpc::Message& notification, std::string_view raw)>;
  void set_listener(Listener listener) { listener_ = std::move(listener); }
  void keep_sessions_with(std::shared_ptr<const KeptSessions> kept) { kept_ = std::move(kept); }
  // Where what a server says to one client session's own session outside its requests goes.
  using ClientListener = std::function<void(const std::string& nonce, std::string_view raw)>;
  void set_client_listener(ClientListener listener) { client_listener_ = std::move(listener); }
  // Whether another session here still subscribes to `uri` at the server: a server whose one
  // session serves every client is told of an unsubscription only when none does.
  using Subscribed = std::function<bool(std::string_view server, const std::string& uri)>;
  void set_subscribed(Subscribed subscribed) { subscribed_ = std::move(subscribed); }

  // Whether the request `relay` is of goes in a session of its client session's own (HTTP
  // servers that give sessions).
  virtual bool per_client(const Relay* /*relay*/) const { return false; }
  // Client session `nonce` has a stream open here (once per stream): the server's stream of the
  // client session's own session (`carried`: the sessions its id carries) is read for it, until
  // as many stop_listening_for_client.
  virtual void listen_for_client(const std::string& /*nonce*/,
                                 const std::map<std::string, std::string>& /*carried*/) {}
  virtual void stop_listening_for_client(const std::string& /*nonce*/) {}
  // Client session `nonce` ended: its own session with the server ends too.
  virtual void end_client_session(const std::string& /*nonce*/,
                                  const std::map<std::string, std::string>& /*carried*/) {}

  // A session of the client session `nonce` with the server, opened now, within `timeout`: its
  // id, for the client session's id to carry. None for a server that has no sessions of its own
  // per client (stdio and the old HTTP+SSE transport: one session serves every client).
  virtual Awaitable<std::optional<std::string>> open_client_session(std::string nonce,
                                                                    Millis timeout);

  // Null while the server is not initialized.
  const ServerInfo* info() const { return info_ ? &*info_ : nullptr; }
  const config::McpServer& config() const { return config_; }

 protected:
  ServerLink(Executor executor, config::McpServer config);

  // One request now, initialized or not (initialize itself goes through here).
  virtual Awaitable<Reply> send(std::string_view method, std::string_view params, Millis timeout,
                                Relay* relay) = 0;
  // The server stopped answering: stdio restarts its process, http initializes a new session.
  virtual void start_over() = 0;

  // The server is initialized (its answer) or is no longer (nullopt): waiting requests go on.
  void set_ready(std::optional<ServerInfo> info);
  // What the link knew of the server's lists is no longer true (it started over).
  void forget_lists();
  // A notification from the server (`raw`, as it came). The lists it says changed are dropped
  // and the clients told; progress goes to the relay of the request it is about; others (log
  // messages, resource updates) go to `relay` when the server sent them on the stream of that
  // request, else to the clients listening.
  void on_notification(const api::jsonrpc::Message& notification, std::string_view raw,
                       Relay* relay);
  // A request of the server's: ping, and roots/list when the server has `roots:`, are answered
  // here; sampling, elicitation and roots go to `relay`, the client request the server is serving
  // (null when it is not known: refused). The answer goes in `session` (see send_message).
  void on_request(const api::jsonrpc::Message& request, Relay* relay, std::string session = {});
  // The result of roots/list from the server's `roots:`.
  std::string configured_roots() const;
  // The one client request with the server now, or null when there are none or several (a
  // request on stdio does not say which request of the client's it serves).
  Relay* sole_relay() const { return relays_.size() == 1 ? relays_.front() : nullptr; }
  // A message the server answers nothing to (a response to its request, a notification), sent
  // in the background; over HTTP in the server's session `session` (its id; empty: the
  // gateway's own).
  virtual void send_message(std::string message, std::string session = {}) = 0;
  // What a request the client cancelled is answered with, and what tells the server to stop.
  static Reply cancelled();
  static std::string cancelled_notification(std::string_view id, std::string_view reason);
  // A notification of the server to client session `nonce` alone.
  void tell_client(const std::string& nonce, std::string_view raw) const {
    if (client_listener_) client_listener_(nonce, raw);
  }
  // For the log: "mcp server <name>".
  std::string name() const { return "mcp server " + config_.name; }
  // The params of the gateway's initialize request.
  static std::string initialize_params();
  // What the server said of itself in its answer to initialize; nullopt (and the reason in the
  // log) when the answer is an error or not one the gateway understands.
  std::optional<ServerInfo> accept_initialize(const Reply& reply) const;
  // The server answers requests from now on (and the log says so).
  void became_ready(ServerInfo info);

  // A server that fails is started again after 0.5 s, then 1, 2, ... up to 30 s between tries.
  static constexpr Millis kFirstBackoff{500};
  static constexpr Millis kMaxBackoff{30'000};
  // Spawning or connecting and initializing: an interpreter (node, python) may take seconds.
  static constexpr Millis kInitializeTimeout{30'000};

  Executor executor_;
  config::McpServer config_;
  bool stopped_ = false;
  std::shared_ptr<const KeptSessions> kept_;  // null without Redis

 private:
  Awaitable<bool> wait_ready(std::chrono::steady_clock::time_point deadline);
  void list_changed(ListKind kind);

  std::optional<ServerInfo> info_;
  std::vector<Timer*> ready_waiters_;
  std::array<std::optional<std::string>, kListKinds> lists_;
  std::array<std::uint64_t, kListKinds> list_versions_{};  // bumped whenever a list changes
  // Requests whose progress a client asked for, by the token the server was given (the
  // gateway's own: clients' tokens could collide on a server they share).
  struct Progress {
    Relay* relay;
    std::string client_token;  // raw JSON
  };
  std::unordered_map<std::string, Progress> progress_;
  std::vector<Relay*> relays_;  // of the client requests with the server now
  Listener listener_;
  ClientListener client_listener_;
  Subscribed subscribed_;
  std::uint64_t next_token_ = 0;
  Millis ping_interval_{0};
  Millis ping_timeout_{0};
  std::atomic<unsigned> missed_pings_{0};
  std::atomic<bool> up_{false};
  std::unique_ptr<Timer> ping_timer_;  // while a health loop runs
};

// The link for a server of the configuration's transport, not started.
std::shared_ptr<ServerLink> make_server_link(Executor executor, const config::McpServer& config);

}  // namespace switchyard::mcp
