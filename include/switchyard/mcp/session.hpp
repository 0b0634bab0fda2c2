// An MCP session as the Mcp-Session-Id Switchyard hands out carries it: signed, so that any
// replica sharing the secret serves any request of it, and a restart does not end it.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "switchyard/mcp/session_signer.hpp"

namespace switchyard::mcp {

// A random tag of this process, in the ids it makes that another replica's must not collide with
// (stream event ids, the ids of servers' requests relayed to clients).
const std::string& process_tag();

struct Session {
  // What the client said at initialize it answers when a server asks (its capabilities).
  enum Feature : unsigned { kSampling = 1, kElicitation = 2, kRoots = 4, kSamplingTools = 8 };

  std::string version;      // the protocol version agreed at initialize
  std::string key;          // the gateway key's name that initialized it ("" without keys)
  std::string server;       // the view: one server, or "" for /mcp
  std::int64_t issued = 0;  // seconds since the epoch
  std::string nonce;        // makes every id unique (DELETE ends exactly one session)
  unsigned features = 0;    // of Feature
  // The session's own sessions with HTTP servers, opened at initialize: each server's
  // Mcp-Session-Id, by the server's name.
  std::map<std::string, std::string> upstream;

  // A new session, issued now.
  static Session open(std::string version, std::string key, std::string server, unsigned features);
  // The Features a server's request (`params`: raw) needs of the client: sampling with `tools`
  // needs sampling.tools too; 0 for a method that is none of them.
  static unsigned feature_for(std::string_view method, std::string_view params);
  std::string id(const SessionSigner& signer) const;
  // The session an id carries, when the id is genuine; nullopt when forged, garbled or expired
  // (older than `ttl`).
  static std::optional<Session> read(std::string_view id, const SessionSigner& signer,
                                     std::chrono::milliseconds ttl);
};

}  // namespace switchyard::mcp
