#include "switchyard/gateway/key_ring.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>

namespace switchyard::gateway {

std::string sha256_hex(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(text.data(), text.size(), digest, &size, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(size * 2);
  for (unsigned int i = 0; i < size; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 0xF];
  }
  return hex;
}

KeyRing::KeyRing(const std::vector<config::GatewayKey>& keys) {
  for (const auto& k : keys) by_hash_.emplace(k.sha256, &k);
}

const config::GatewayKey* KeyRing::find(std::string_view authorization) const {
  // The scheme is case-insensitive (RFC 9110 §11.1).
  constexpr std::string_view kBearer = "bearer ";
  if (authorization.size() <= kBearer.size() ||
      !std::equal(kBearer.begin(), kBearer.end(), authorization.begin(), [](char a, char b) {
        return a == static_cast<char>(std::tolower(static_cast<unsigned char>(b)));
      }))
    return nullptr;
  return find_key(authorization.substr(kBearer.size()));
}

const config::GatewayKey* KeyRing::find_key(std::string_view key) const {
  while (!key.empty() && key.front() == ' ') key.remove_prefix(1);
  while (!key.empty() && key.back() == ' ') key.remove_suffix(1);
  if (key.empty()) return nullptr;
  const auto it = by_hash_.find(sha256_hex(key));
  return it == by_hash_.end() ? nullptr : it->second;
}

}  // namespace switchyard::gateway
