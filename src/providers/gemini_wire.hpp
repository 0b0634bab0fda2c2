// What the Gemini adapter's files share: the JSON document type, the model's place in request
// paths and bodies, and Gemini's error envelope (docs/providers.md, "Gemini: errors"). Everything
// here is pure and never throws: upstream and client bytes are parsed with exceptions off and
// read with type-checked lookups.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "provider_errors.hpp"

namespace switchyard::providers::gemini {

// Ordered, so bodies keep the order they are written in (stable goldens, readable logs) and
// client JSON Schemas pass through with their properties in the client's order.
using Json = nlohmann::ordered_json;

// The document in `text`, or a discarded value when it is not JSON.
Json parse(std::string_view text);
// Compact JSON text; invalid UTF-8 is replaced, not thrown on.
std::string dump(const Json& value);

// `object[key]` when `object` is an object holding a non-null `key`; otherwise nullptr.
const Json* find(const Json& object, const char* key);
// The string at `object[key]`, or nullptr when absent or not a string.
const std::string* find_string(const Json& object, const char* key);
// A non-negative integer member (token counts, indexes), or `fallback`.
std::uint64_t count(const Json& object, const char* key, std::uint64_t fallback = 0);

// The model as Gemini's paths and bodies name it, without the "models/" prefix a configuration
// may have copied from Google's documentation.
std::string_view bare_model(std::string_view upstream);

// The facts of {"error":{"code","message","status","details":[{"reason"}]}}, also wrapped in an
// array as the streaming endpoints send it; nullopt when `doc` is no error envelope. `status`
// is the HTTP status, or 0 to take the envelope's own code (in-stream errors).
std::optional<ErrorFacts> error_facts(const Json& doc, int status);

// The classified error of the envelope in `doc`, nullopt when there is none; `status` as above.
// A 429's google.rpc.RetryInfo retryDelay ("23s") becomes the error's retry_after_s: Gemini
// sends no Retry-After header.
std::optional<ProviderError> classify_envelope(const Json& doc, int status,
                                               std::string_view provider);

}  // namespace switchyard::providers::gemini
