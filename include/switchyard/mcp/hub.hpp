// The MCP servers Switchyard federates, and the answers to what MCP clients ask of them. The hub
// runs on a thread of its own: the servers' processes and connections live there, whatever
// worker a client's request arrived on, so every client session shares one connection per
// server. A worker hands a request over with answer() and is resumed on its own thread with the
// JSON-RPC response.
//
// Two views: /mcp is every server at once — tools and prompts named `<server>__<name>`,
// resources under their own URIs, lists merged and paged by the gateway — and /mcp/<server> is
// one server exactly as it presents itself.
//
// Example:
//   Hub hub;
//   hub.start(config.mcp);
//   std::string response = co_await hub.answer({.server = "", .id = "1",
//                                               .method = "tools/list", .version = "2025-11-25"});
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "switchyard/async.hpp"
#include "switchyard/config/config.hpp"
#include "switchyard/mcp/relay.hpp"
#include "switchyard/mcp/session_streams.hpp"
#include "switchyard/state/rate_limiter.hpp"

namespace switchyard::mcp {

class ActiveSessions;

// A client's request, as the hub needs it: the front door has read the message and checked the
// session.
struct ClientRequest {
  std::string server;  // the view: one server, or empty for all of them
  std::string id;      // raw JSON
  std::string method;
  std::string params;        // raw object, or empty
  std::string version;       // the session's protocol version
  std::string session;       // its nonce
  config::McpAccess access;  // what the client's key may reach
  // Where the servers' messages about the request go (progress, log messages); may be null.
  std::shared_ptr<Relay> relay;
};

class Hub {
 public:
  Hub();
  // Stops the thread and the servers (their processes are killed).
  ~Hub();
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  // Starts the hub's thread and the configured servers. With `redis`, the events of sessions'
  // streams open here are kept there too, for the other replicas (shared_streams.hpp).
  void start(const config::Mcp& config, const std::optional<config::Redis>& redis = std::nullopt);
  // A new configuration: servers that appeared start, those that went stop, changed ones
  // restart; the others keep running untouched. Any thread.
  void configure(const config::Mcp& config);
  void stop();

  // The JSON-RPC response (a result or an error) to `request`. From a worker's coroutine, which
  // is resumed on its own executor.
  Awaitable<std::string> answer(ClientRequest request);
  // A new client session's own sessions with the servers of its view that its key may use and
  // that keep sessions per client (HTTP): each server's session id, by the server's name, for
  // the client session's id to carry. Servers that do not answer within list_timeout are left
  // out (their session opens with the client's first request to them). From a worker.
  Awaitable<std::map<std::string, std::string>> open_sessions(std::string view,
                                                              config::McpAccess access,
                                                              std::string nonce);

  // Each configured server's health, in configuration order. Any thread.
  struct ServerHealth {
    std::string name;
    bool up = false;  // initialized and answering
    unsigned missed_pings = 0;
  };
  std::vector<ServerHealth> health() const;
  // The MCP gauges of /metrics: servers up, streams open, requests in flight, servers' requests
  // awaiting a client. Any thread.
  void write_metrics(std::string& out) const;

  // What /admin/mcp shows: each server, whether it is ready, what it said of itself and how
  // many tools, prompts and resources it has (fetched if not known), as JSON. From a worker.
  Awaitable<std::string> status();

  // The sessions' streams (GET) and what servers say to them outside requests. Any thread.
  SessionStreams& streams();
  // The sessions that made requests here lately. Any thread.
  ActiveSessions& sessions();
  // When the stream of session `nonce` is here: `method` (resources/subscribe or unsubscribe)
  // for each of `uris`, sent to the servers as if the session asked, because it asked another
  // replica or its stream came from one. Any thread; done on the hub's.
  void follow(const std::string& nonce, std::string method, std::vector<std::string> uris);
  // A stream of session `nonce` opened here (once per stream; `carried`: the sessions with
  // servers its id carries): servers that keep a session per client session have that session's
  // stream read for it, until as many stop_listening_for. Any thread.
  void listen_for(const std::string& nonce, const std::string& view,
                  const config::McpAccess& access,
                  const std::map<std::string, std::string>& carried);
  void stop_listening_for(const std::string& nonce);
  // The session's stream opened at another replica: the one here ends, the session is forgotten
  // here, and servers are unsubscribed from what no other session here subscribes to.
  void stream_moved(const std::string& nonce);

  // Requests in flight, by session nonce and the client's request id, so that the client's
  // notifications/cancelled (or its leaving) reaches the server working on one. Any thread.
  void track(const std::string& key, const std::shared_ptr<Relay>& relay);
  void untrack(const std::string& key);
  void cancel(const std::string& key);
  void cancel(const std::shared_ptr<Relay>& relay);

  // Servers' requests relayed to a client, by session nonce and the id the gateway gave them
  // ("nonce|id"), until the client's answer arrives or the client request they were made for
  // ends. Any thread.
  void await_answer(const std::string& key, std::function<void(Reply)> answer);
  // The client's answer goes to the server: false when no request of this process awaits it.
  bool answered(const std::string& key, Reply reply);
  // No answer will come (the client request ended first): the server is told why.
  void abandon_answer(const std::string& key, std::string why);

  // The process's counts behind the tools/call limits, by name ("key:team-a", "server:github"),
  // kept across reloads (a new per_minute makes a new limiter). Any thread.
  std::shared_ptr<state::RateLimiter> rate_limiter(const std::string& name,
                                                   std::uint32_t per_minute);
  std::shared_ptr<std::atomic<std::uint32_t>> in_flight(const std::string& name);

  // Sessions a client ended (DELETE), by nonce, until they would have expired anyway; their
  // streams end. Any thread. Kept by this process only (ended_sessions.hpp tells the others).
  // Servers are told to end the client session's own sessions with them (`carried`: those its id
  // carries; this process knows of those it opened since).
  void end_session(const std::string& nonce, std::chrono::system_clock::time_point expiry,
                   const std::map<std::string, std::string>& carried);
  bool session_ended(const std::string& nonce) const;

 private:
  struct Inner;
  std::unique_ptr<Inner> inner_;
};

}  // namespace switchyard::mcp
