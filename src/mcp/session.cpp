#include "switchyard/mcp/session.hpp"

#include <nlohmann/json.hpp>

namespace switchyard::mcp {
namespace {

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

const std::string& process_tag() {
  static const std::string tag = base64url_encode(random_bytes(6));
  return tag;
}

Session Session::open(std::string version, std::string key, std::string server, unsigned features) {
  return Session{std::move(version),
                 std::move(key),
                 std::move(server),
                 now_seconds(),
                 base64url_encode(random_bytes(12)),
                 features,
                 {}};
}

unsigned Session::feature_for(std::string_view method, std::string_view params) {
  if (method == "sampling/createMessage") {
    const auto json = nlohmann::json::parse(params.empty() ? "{}" : params, nullptr, false);
    return json.is_object() && json.contains("tools") ? kSampling | kSamplingTools : kSampling;
  }
  if (method == "elicitation/create") return kElicitation;
  if (method == "roots/list") return kRoots;
  return 0;
}

std::string Session::id(const SessionSigner& signer) const {
  nlohmann::json payload = {{"v", version}, {"k", key},   {"s", server},
                            {"t", issued},  {"n", nonce}, {"c", features}};
  if (!upstream.empty()) payload["u"] = upstream;
  return signer.sign(payload.dump());
}

std::optional<Session> Session::read(std::string_view id, const SessionSigner& signer,
                                     std::chrono::milliseconds ttl) {
  const auto payload = signer.verify(id);
  if (!payload) return std::nullopt;
  const auto json = nlohmann::json::parse(*payload, nullptr, false);
  if (!json.is_object()) return std::nullopt;
  Session session;
  try {
    session = Session{json.at("v").get<std::string>(), json.at("k").get<std::string>(),
                      json.at("s").get<std::string>(), json.at("t").get<std::int64_t>(),
                      json.at("n").get<std::string>(),
                      // Absent from the ids of gateways before client features were kept.
                      json.value("c", 0u),
                      // Absent when the session opened none.
                      json.value("u", std::map<std::string, std::string>())};
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;  // signed by us, so a payload of another shape is an older gateway's
  }
  const auto age = std::chrono::seconds(now_seconds() - session.issued);
  if (age > ttl || age < -std::chrono::minutes(5)) return std::nullopt;
  return session;
}

}  // namespace switchyard::mcp
