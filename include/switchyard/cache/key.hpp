// The response cache's key: which chat completions requests may be answered from the cache, and
// the SHA-256 of what shapes their answer. Two requests get the same key exactly when their bodies
// are the same JSON once the fields that do not shape the answer are dropped (model, stream,
// stream_options, user, metadata, store, service_tier, prompt_cache_key, safety_identifier) and
// object key order, whitespace, string escapes and number spelling are ignored. Anything else —
// unknown fields included — stays in the key: a field we do not know might change the answer, and
// a spurious miss only costs an upstream call where a wrong hit returns someone else's answer.
// Runs per request: one pass over the body with api::json::Cursor, no DOM.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace switchyard::cache {

struct KeyPolicy {
  // Requests sampling at a higher temperature are not cached: their answer is meant to vary.
  double max_temperature = 0.0;
};

struct KeyDecision {
  std::string key;            // lowercase hex SHA-256; empty when bypassed
  std::string bypass_reason;  // short, lower case, e.g. "tools"; empty when cacheable

  bool cacheable() const { return bypass_reason.empty(); }
};

// `body` is a chat completions request (validated JSON text); `scope` is the resolved route name,
// or "" when the cache is shared across models. Not cacheable: a body that is not a JSON object,
// a non-empty `tools` or `functions` array (the answer may be a call whose result the client
// feeds back), `temperature` above policy.max_temperature, or `temperature` absent or null (it
// then defaults to 1) unless policy.max_temperature >= 1.
KeyDecision cache_key(std::string_view body, std::string_view scope, const KeyPolicy& policy);

// The canonical form the key hashes, of any JSON text: object members sorted by their unescaped
// key bytes (duplicates keep their order), no whitespace, strings re-escaped one way
// (api::json::append_quoted), numbers re-spelled one way: an integral value below 2^53 in
// magnitude as an integer (so 1.0, 1e0, 10e-1 are 1 and -0 is 0), other values as the shortest
// text that round-trips the double. Two exceptions keep distinct values distinct: an integer
// literal (no fraction, no exponent) keeps its digits however large (seeds above 2^53 must not
// collide), and a number a double cannot hold (1e400) is kept as written. nullopt when `text` is
// not valid JSON.
std::optional<std::string> canonical_json(std::string_view text);

}  // namespace switchyard::cache
