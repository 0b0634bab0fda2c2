// The gateway's whole pipeline for a request it makes of itself (an MCP server's sampling
// request served by a route): the key its Authorization names, limits, routing, cache, spend,
// log line, metrics and trace, exactly as for a client's request. From the worker's thread.
#pragma once

#include "switchyard/async.hpp"
#include "switchyard/request/context.hpp"

namespace switchyard::handlers {

class Loopback {
 public:
  // `request` is fresh: made of the request and where its answer goes, nothing else set.
  virtual Awaitable<void> handle(request::Context& request) = 0;

 protected:
  ~Loopback() = default;
};

}  // namespace switchyard::handlers
