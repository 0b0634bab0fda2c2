#include "gemini_wire.hpp"

#include <charconv>
#include <cmath>

namespace switchyard::providers::gemini {

Json parse(std::string_view text) {
  return Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
}

std::string dump(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

const Json* find(const Json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

const std::string* find_string(const Json& object, const char* key) {
  const Json* value = find(object, key);
  return value && value->is_string() ? value->get_ptr<const std::string*>() : nullptr;
}

std::uint64_t count(const Json& object, const char* key, std::uint64_t fallback) {
  const Json* value = find(object, key);
  if (value && value->is_number_unsigned()) return value->get<std::uint64_t>();
  return fallback;
}

std::string_view bare_model(std::string_view upstream) {
  constexpr std::string_view kPrefix = "models/";
  if (upstream.starts_with(kPrefix)) upstream.remove_prefix(kPrefix.size());
  return upstream;
}

std::optional<ErrorFacts> error_facts(const Json& doc, int status) {
  const Json& envelope = doc.is_array() && !doc.empty() ? doc.front() : doc;
  const Json* error = find(envelope, "error");
  if (!error || !error->is_object()) return std::nullopt;
  ErrorFacts facts;
  facts.status = status;
  if (const Json* code = find(*error, "code"); status == 0 && code && code->is_number_integer())
    facts.status = code->get<int>();
  if (const auto* message = find_string(*error, "message")) facts.message = *message;
  if (const auto* word = find_string(*error, "status")) facts.type = *word;
  // The machine-readable cause is google.rpc.ErrorInfo's reason: API_KEY_INVALID is how a bad
  // key (sent as a 400 INVALID_ARGUMENT) tells itself apart from a bad request.
  if (const Json* details = find(*error, "details"); details && details->is_array()) {
    for (const Json& detail : *details) {
      if (const auto* reason = find_string(detail, "reason"); reason && !reason->empty()) {
        facts.code = *reason;
        break;
      }
    }
  }
  return facts;
}

std::optional<ProviderError> classify_envelope(const Json& doc, int status,
                                               std::string_view provider) {
  auto facts = error_facts(doc, status);
  if (!facts) return std::nullopt;
  // An envelope without a code of its own (inside a 2xx body or stream) stands for a bad
  // gateway unless its status word says more.
  if (facts->status == 0 && facts->type.empty()) facts->status = 502;
  ProviderError error = classify_error(*facts, provider);
  const Json& envelope = doc.is_array() && !doc.empty() ? doc.front() : doc;
  const Json* details = find(*find(envelope, "error"), "details");
  if (!details || !details->is_array()) return error;
  for (const Json& detail : *details) {
    const std::string* delay = find_string(detail, "retryDelay");
    if (!delay || !delay->ends_with('s')) continue;
    double seconds = 0;
    const char* first = delay->data();
    const char* last = first + delay->size() - 1;
    if (auto [end, ec] = std::from_chars(first, last, seconds);
        ec == std::errc() && end == last && seconds > 0 && seconds < 86400)
      error.error.retry_after_s = static_cast<int>(std::ceil(seconds));
    break;
  }
  return error;
}

}  // namespace switchyard::providers::gemini
