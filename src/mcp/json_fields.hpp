// Reading a member of a JSON object the gateway did not write (a client's params, a server's
// answer) without trusting its type: nlohmann's value() throws on a mismatch.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace switchyard::mcp {

// The member `key` of `object` when it is a string, else "".
inline std::string string_member(const nlohmann::json& object, std::string_view key) {
  if (!object.is_object()) return {};
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace switchyard::mcp
