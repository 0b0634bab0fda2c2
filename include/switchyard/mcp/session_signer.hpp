// Signs and checks the MCP session ids Switchyard hands out. A session id is a token that
// carries what the session needs (its payload, chosen by the caller) and an HMAC-SHA-256 over
// it, so that any replica holding the key can serve any request of the session and no client
// can forge or alter one. Keys rotate: the current key signs, the previous one is still accepted
// until it is dropped from the configuration.
//
// A token is `base64url(payload) "." base64url(mac)`, no padding: visible ASCII only, as the
// MCP specification requires of Mcp-Session-Id.
//
// Example:
//   SessionSigner signer(config.session_key, config.previous_session_key);
//   std::string id = signer.sign(R"({"v":"2025-11-25","k":"team-a"})");
//   if (auto payload = signer.verify(id)) ...  // the same bytes back
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace switchyard::mcp {

class SessionSigner {
 public:
  // Keys are used as raw bytes. An empty `current` key means the process's random 32-byte key
  // (one for all signers of the process): tokens then hold only as long as this process, and no
  // other replica accepts them. `previous`
  // may be empty (no rotation in progress). Throws std::runtime_error if no random key can be made.
  SessionSigner(std::string_view current, std::string_view previous);

  // Signs with the current key. An empty payload is a programmer error (std::invalid_argument):
  // its token would have an empty part, which verify() refuses.
  std::string sign(std::string_view payload) const;
  // The payload, when `token` is well-formed and signed by the current or the previous key;
  // nullopt otherwise. The MAC is compared in constant time.
  std::optional<std::string> verify(std::string_view token) const;

 private:
  std::string current_;
  std::string previous_;
};

// Base64url without padding (RFC 4648 §5), as the tokens use it. Decoding refuses any character
// outside the url alphabet (padding '=' included), a length that is 1 mod 4, and non-zero bits
// after the last byte, so each byte string has exactly one accepted encoding.
std::string base64url_encode(std::string_view bytes);
std::optional<std::string> base64url_decode(std::string_view text);

// `size` bytes from the kernel's CSPRNG (getrandom(2)): keys and ids without initialising
// OpenSSL, which costs an idle process about 2 MiB of resident memory.
std::string random_bytes(std::size_t size);

}  // namespace switchyard::mcp
