// An endpoint family's request handler, and the table that maps each endpoint to one. A handler
// is a small class with one `handle`: the edge (gateway/) has already read the request, checked
// its key against the endpoint's access level and its method, and made the request's Context;
// the handler answers through `request.response()` and fills `request.record`.
//
// A new endpoint family is a folder under src/handlers/ with its handler class, plus one row in
// src/handlers/endpoints.cpp.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "switchyard/async.hpp"
#include "switchyard/request/context.hpp"

namespace switchyard::handlers {

struct Services;

class Handler {
 public:
  virtual ~Handler() = default;
  virtual Awaitable<void> handle(request::Context& request) = 0;
};

// Who may call an endpoint when gateway keys are configured (without keys, anyone may).
enum class Access {
  open,   // no key needed: probes and the metrics scrape
  key,    // any gateway key
  admin,  // a key with `admin: true`
};

// HTTP methods an endpoint answers; any other gets 405.
enum Method : unsigned { kGet = 1u << 0, kPost = 1u << 1, kDelete = 1u << 2, kAnyMethod = ~0u };

struct Endpoint {
  std::string_view path;
  // The same endpoint without the leading /v1: the OpenAI SDKs' base_url usually ends in /v1,
  // hand-written clients often leave it out. Empty when there is no such alias.
  std::string_view short_path;
  unsigned methods = kGet;
  Access access = Access::key;
  std::string_view metrics_name;  // what the metrics call it: a small fixed set
  bool quiet = false;             // neither logged nor traced (probes and scrapes would drown both)
  std::unique_ptr<Handler> handler;
  bool subpaths = false;  // also serves every path below `path` (/mcp/<server>)
  // The API it speaks, which shapes its errors; `both`: Anthropic's when the request carries
  // anthropic-version, as Anthropic's SDKs always send it.
  enum class Speaks { openai, anthropic, both };
  Speaks speaks = Speaks::openai;
};

// Every endpoint of one configuration generation, its handlers bound to `services`. Endpoints a
// configuration turns off (metrics.enabled: false) are not in it: they answer 404 like any path
// the gateway does not serve.
std::vector<Endpoint> make_endpoints(Services& services);

}  // namespace switchyard::handlers
