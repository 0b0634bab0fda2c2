// What servers say to clients outside any request of theirs — list changes, updates of
// resources a session subscribed to, log messages — on the way to each session's stream (the
// client's GET /mcp). Each session in this process that opened a stream or subscribed has an
// entry: the events meant for it, numbered, of which the last kReplay are kept so that a client
// reconnecting with Last-Event-ID gets what it missed, and the stream it has open now, if any.
// An entry with no stream open is dropped after kIdle; a stream whose client has more than
// kReplay events not yet written ends (the client resumes). With Redis, the events of the
// session whose stream is here go to the replicas' store too (keep_with): a client that
// reconnects to another replica is given them there (open with `shared`). Any thread.
//
// Example:
//   SessionStreams streams;
//   auto relay = std::make_shared<Relay>(worker);
//   std::string primer = streams.open({nonce, "", access}, relay, last_event_id);
//   ... the worker writes what relay->take() gives it ...
//   streams.publish("everything", R"({"jsonrpc":"2.0","method":"notifications/message",…})");
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "switchyard/api/jsonrpc.hpp"
#include "switchyard/config/config.hpp"
#include "switchyard/mcp/relay.hpp"

namespace switchyard::mcp {

// A session as its stream's events are chosen for it.
struct StreamOwner {
  std::string nonce;
  std::string view;  // one server, or "" for every server `access` reaches
  config::McpAccess access;
};

// An event as the replicas keep it: its id and the whole SSE event.
struct KeptEvent {
  std::string id;
  std::string event;
};

class SessionStreams {
 public:
  // Events kept per session for a reconnecting client.
  static constexpr std::size_t kReplay = 256;
  // A session with no stream open is forgotten this long after its last one closed.
  static constexpr std::chrono::minutes kIdle{10};

  SessionStreams();

  // The session's stream is `relay` from now on; a stream it had open ends (Relay::end). Events
  // kept since `last_event_id` (a Last-Event-ID this process gave; without one, those no stream
  // carried) are pushed to it at once.
  // With `shared` (the replicas' kept events of the session) and a Last-Event-ID of another
  // process, those after it are pushed instead (every one, when it is no longer among them).
  // Returns the id to prime the stream with: that of the last event the client has, so that a
  // client cut off during the replay asks for it again.
  std::string open(const StreamOwner& owner, const std::shared_ptr<Relay>& relay,
                   std::string_view last_event_id, const std::vector<KeptEvent>* shared = nullptr);
  // The replicas' kept events (`shared`) once more, a while after open() replayed them up to
  // `after` (empty: there were none): those that followed it and came from another process (the
  // replica that had the stream, until it heard the stream moved) are pushed to `relay`, if it
  // is still the session's stream.
  void catch_up(const std::string& nonce, const Relay* relay, std::string_view after,
                const std::vector<KeptEvent>& shared);
  // Whether `event_id` is one this process gave.
  bool is_own(std::string_view event_id) const;
  // Where the events of a session whose stream is here go besides (the replicas' store). Called
  // by publish() with the lock held: must not block. Before the first publish().
  using Keeper = std::function<void(const std::string& nonce, KeptEvent event)>;
  void keep_with(Keeper keeper) { keeper_ = std::move(keeper); }
  // The session's stream is here (it opened here, and not at another replica since): the
  // session as it opened it.
  std::optional<StreamOwner> home_of(const std::string& nonce) const;
  // The session's stream opened at another replica: the one here ends and the session is
  // forgotten here. The URIs it subscribed to, with its owner, when it had an entry here.
  std::optional<std::pair<StreamOwner, std::vector<std::string>>> moved(const std::string& nonce);
  // `relay`'s stream closed (if it is still the session's).
  void close(const std::string& nonce, const Relay* relay);
  // The session ended (DELETE): its stream ends and nothing more is kept for it.
  void forget(const std::string& nonce);
  // Every stream open ends (the process drains): clients reconnect, to another replica.
  void end_all();

  // resources/subscribe and unsubscribe of a session, for the updates of servers whose one
  // session serves every client.
  void subscribe(const StreamOwner& owner, const std::string& uri);
  void unsubscribe(const std::string& nonce, const std::string& uri);
  // Whether a session of this process that sees `server` subscribes to `uri`.
  bool subscribed(std::string_view server, const std::string& uri) const;

  // A notification of server `server` (raw JSON-RPC), to every session it concerns.
  void publish(std::string_view server, const api::jsonrpc::Message& notification,
               std::string_view raw);
  // A notification (raw JSON-RPC) to session `nonce` alone, when it has an entry here.
  void publish_to(const std::string& nonce, std::string_view raw);

  std::size_t open_streams() const;
  // Whether the session's stream is open here.
  bool streaming(const std::string& nonce) const;

 private:
  struct Entry {
    StreamOwner owner;
    std::set<std::string> subscriptions;
    std::deque<std::pair<std::uint64_t, std::string>> events;  // number, SSE event
    std::uint64_t last = 0;                                    // number of the last event
    std::uint64_t delivered = 0;  // ... and of the last one given to a stream
    std::shared_ptr<Relay> stream;
    bool home = false;  // its stream opened here last: its events go to the keeper
    std::chrono::steady_clock::time_point idle_since;
  };
  Entry& entry(const StreamOwner& owner);  // made if missing; mutex_ held
  void sweep();                            // drops idle entries; mutex_ held
  // One more event of the session; mutex_ held.
  void deliver(const std::string& nonce, Entry& e, std::string_view raw);
  std::string event_id(std::uint64_t number) const;

  const std::string tag_;  // this process's: an id another process gave replays nothing here
  Keeper keeper_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace switchyard::mcp
