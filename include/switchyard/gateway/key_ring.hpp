// The gateway's client keys at request time: `Authorization: Bearer <key>` (OpenAI's SDKs) or
// `x-api-key: <key>` (Anthropic's) is hashed (SHA-256) and looked up among the configured hashes,
// so the keys themselves exist nowhere on the gateway.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>

#include "switchyard/config/config.hpp"

namespace switchyard::gateway {

// 64 lower-case hex digits.
std::string sha256_hex(std::string_view text);

class KeyRing {
 public:
  explicit KeyRing(const std::vector<config::GatewayKey>& keys);

  bool enabled() const { return !by_hash_.empty(); }
  // The key an Authorization header value carries ("Bearer <key>"), or nullptr.
  const config::GatewayKey* find(std::string_view authorization) const;
  // The key itself (an x-api-key value), or nullptr.
  const config::GatewayKey* find_key(std::string_view key) const;

 private:
  std::unordered_map<std::string, const config::GatewayKey*> by_hash_;
};

}  // namespace switchyard::gateway
