// What the MCP door reads: a JSON-RPC message from a client or from an MCP server, and a
// server's initialize result. Any bytes get a message or the JSON-RPC error to answer with.
#include <cstddef>
#include <cstdint>

#include "fuzz_input.hpp"
#include "switchyard/api/jsonrpc.hpp"
#include "switchyard/mcp/protocol.hpp"

using namespace switchyard;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const fuzz::Input input(data, size);
  const auto message = api::jsonrpc::read_message(input.rest());
  if (message) {
    (void)api::jsonrpc::result_response(message->id, "{}");
  } else {
    (void)api::jsonrpc::error_response(message.error());
  }
  (void)mcp::read_server_info(input.rest());
  return 0;
}
