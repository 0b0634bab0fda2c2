// The aggregate view, /mcp: every server's tools, prompts and resources as those of one server.
// Tools and prompts are named `<server>__<name>` (a server name has no "__", so the first one
// splits the name back), resources keep their URIs and are found again through the servers'
// lists. Lists are asked of every server at once, each within `list_timeout`: a slow or dead
// server's part is left out (and logged), never waited for. The merged list is paged by the
// gateway, `page_size` items a page. Runs on the hub's thread.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "switchyard/async.hpp"
#include "switchyard/config/config.hpp"
#include "switchyard/mcp/hub.hpp"

namespace switchyard::mcp {

class ServerLink;

// The server of that name, or null.
std::shared_ptr<ServerLink> find_server(const std::vector<std::shared_ptr<ServerLink>>& servers,
                                        std::string_view name);

// Methods a server answers itself, passed on as they came at /mcp/<server>.
bool is_forwarded(std::string_view method);

// `<server>__<name>` and back.
std::string prefixed_name(std::string_view server, std::string_view name);
struct SplitName {
  std::string_view server, name;
};
std::optional<SplitName> split_name(std::string_view prefixed);

// Runs `each` for 0 .. n-1 at once, on the caller's executor, until all of them are done.
Awaitable<void> each_at_once(std::size_t n, std::function<Awaitable<void>(std::size_t)> each);

struct Federation {
  const std::vector<std::shared_ptr<ServerLink>>& servers;
  const config::Mcp& config;

  // The JSON-RPC response to a request at /mcp.
  Awaitable<std::string> answer(const ClientRequest& request);
};

}  // namespace switchyard::mcp
