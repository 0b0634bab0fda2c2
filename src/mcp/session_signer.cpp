#include "switchyard/mcp/session_signer.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/random.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>

namespace switchyard::mcp {

namespace {

// 32 bytes: the output size of SHA-256, which RFC 2104 §3 recommends as the least key length.
constexpr std::size_t kKeySize = 32;
constexpr std::size_t kMacSize = 32;  // SHA-256

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int digit_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

// Made once: every worker and every configuration generation of this process signs with it, so
// a session holds for as long as the process does.
const std::string& process_key() {
  static const std::string key = random_bytes(kKeySize);
  return key;
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  std::string mac(kMacSize, '\0');
  unsigned int size = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(),
           reinterpret_cast<unsigned char*>(mac.data()), &size) == nullptr ||
      size != kMacSize) {
    throw std::runtime_error("HMAC-SHA-256 failed");
  }
  return mac;
}

bool mac_matches(std::string_view key, std::string_view payload, std::string_view mac) {
  const std::string expected = hmac_sha256(key, payload);
  return CRYPTO_memcmp(expected.data(), mac.data(), kMacSize) == 0;
}

}  // namespace

SessionSigner::SessionSigner(std::string_view current, std::string_view previous)
    : current_(current.empty() ? process_key() : std::string(current)), previous_(previous) {}

std::string SessionSigner::sign(std::string_view payload) const {
  // verify() refuses an empty part, so a token for an empty payload could never be used.
  if (payload.empty()) throw std::invalid_argument("a session id needs a non-empty payload");
  return base64url_encode(payload) + '.' + base64url_encode(hmac_sha256(current_, payload));
}

std::optional<std::string> SessionSigner::verify(std::string_view token) const {
  const std::size_t dot = token.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  const std::string_view payload_text = token.substr(0, dot);
  const std::string_view mac_text = token.substr(dot + 1);
  if (payload_text.empty() || mac_text.empty()) return std::nullopt;

  std::optional<std::string> payload = base64url_decode(payload_text);
  const std::optional<std::string> mac = base64url_decode(mac_text);
  if (!payload || !mac || mac->size() != kMacSize) return std::nullopt;
  if (mac_matches(current_, *payload, *mac)) return payload;
  if (!previous_.empty() && mac_matches(previous_, *payload, *mac)) return payload;
  return std::nullopt;
}

std::string random_bytes(std::size_t size) {
  std::string bytes(size, '\0');
  for (std::size_t got = 0; got < size;) {
    const ssize_t n = ::getrandom(bytes.data() + got, size - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::runtime_error("getrandom failed: " + std::string(std::strerror(errno)));
    got += static_cast<std::size_t>(n);
  }
  return bytes;
}

std::string base64url_encode(std::string_view bytes) {
  std::string text;
  text.reserve((bytes.size() * 4 + 2) / 3);
  std::uint32_t bits = 0;  // only the low `count` bits are pending; higher ones may wrap away
  int count = 0;
  for (const char c : bytes) {
    bits = bits << 8 | static_cast<unsigned char>(c);
    count += 8;
    while (count >= 6) {
      count -= 6;
      text += kAlphabet[bits >> count & 63];
    }
  }
  if (count > 0) text += kAlphabet[bits << (6 - count) & 63];
  return text;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  // Four digits carry three bytes; a lone digit left over (length % 4 == 1) carries 6 bits,
  // less than one byte, so no encoder makes it.
  if (text.size() % 4 == 1) return std::nullopt;
  std::string bytes;
  bytes.reserve(text.size() * 3 / 4);
  std::uint32_t bits = 0;
  int count = 0;
  for (const char c : text) {
    const int value = digit_value(c);  // '=' too is refused: the tokens carry no padding
    if (value < 0) return std::nullopt;
    bits = bits << 6 | static_cast<std::uint32_t>(value);
    count += 6;
    if (count >= 8) {
      count -= 8;
      bytes += static_cast<char>(bits >> count & 0xFF);
    }
  }
  // The bits left over must be zero (RFC 4648 §3.5), so each byte string has exactly one
  // encoding and a token cannot be varied without changing what it says.
  if ((bits & ((1u << count) - 1)) != 0) return std::nullopt;
  return bytes;
}

}  // namespace switchyard::mcp
