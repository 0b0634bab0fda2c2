// One entry of `providers:`: where an upstream lives, how to reach it safely, and how long to
// wait for it.
#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <limits>
#include <system_error>

#include "sections.hpp"

namespace switchyard::config {
namespace {

namespace fs = std::filesystem;

constexpr std::array<std::string_view, 13> kProviderKeys{
    "type",       "base_url",        "api_key",     "ca_file", "allow_plain_http", "timeouts",
    "pool",       "forward_headers", "api_version", "preset",  "max_tokens_field", "health_check",
    "rate_limit",
};
constexpr std::array<std::string_view, 2> kRateLimitKeys{"rpm", "tpm"};
constexpr std::array<std::string_view, 4> kTypes{"openai", "anthropic", "gemini", "azure"};
constexpr std::array<std::string_view, 2> kPresets{"openai", "mistral"};
constexpr std::array<std::string_view, 3> kMaxTokensFields{"as_sent", "max_tokens",
                                                           "max_completion_tokens"};
constexpr std::array<std::string_view, 4> kTimeoutKeys{"connect", "first_byte", "idle", "total"};
constexpr std::array<std::string_view, 2> kPoolKeys{"max_idle", "idle_expiry"};
constexpr std::array<std::string_view, 5> kHealthCheckKeys{"path", "interval", "timeout",
                                                           "expect_status", "failures"};

// Idle connections kept per worker and provider; more than this holds sockets (and upstream
// capacity) for nothing.
constexpr std::uint64_t kMaxPoolIdle = 100'000;
// Failed probes in a row before a provider counts as down; past this it never would in practice.
constexpr std::uint64_t kMaxHealthFailures = 100;

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// RFC 9110 token characters, minus '*', which is ours: a trailing one means "any suffix".
bool is_token_char(char c) {
  static constexpr std::string_view kSymbols = "!#$%&'+-.^_`|~";
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         kSymbols.find(c) != std::string_view::npos;
}

// What only some provider types understand.
void check_applies(NodeReader& reader, const Section& section, const Provider& provider) {
  const bool compatible =
      provider.type == ProviderType::openai || provider.type == ProviderType::azure;
  for (const std::string_view key : {"preset", "max_tokens_field"}) {
    const Entry* e = section.find(key);
    if (e && !compatible) {
      reader.error(e->key_position(), e->path + ": only for providers of type openai or azure");
    }
  }
  const Entry* version = section.find("api_version");
  if (version && provider.type == ProviderType::openai) {
    reader.error(version->key_position(),
                 version->path + ": only for providers of type anthropic, gemini or azure");
  }
}

std::string default_api_version(ProviderType type) {
  switch (type) {
    case ProviderType::anthropic:
      return "2023-06-01";
    case ProviderType::gemini:
      return "v1beta";
    case ProviderType::azure:
      // The latest GA inference API version when chosen (docs/providers.md, "Azure OpenAI").
      return "2024-10-21";
    case ProviderType::openai:
      break;
  }
  return {};
}

void read_base_url(NodeReader& reader, const Entry& entry, bool allow_plain_http,
                   Provider& provider) {
  const auto text = reader.text(entry);
  if (!text) return;
  auto url = parse_url(*text);
  if (!url) {
    reader.error(entry.value_position(), entry.path + ": " + url.error());
    return;
  }
  // Plain http carries the API key and every prompt in clear text; that is only acceptable on a
  // network the operator controls, or when they say so explicitly.
  if (!url->tls && !allow_plain_http && !is_local_host(url->host)) {
    reader.error(entry.value_position(), entry.path + ": plain http to non-local host " +
                                             quote(url->host) +
                                             " (use https, or set allow_plain_http: true)");
    return;
  }
  provider.base_url = std::move(*url);
}

void read_timeouts(NodeReader& reader, const Entry& entry, Timeouts& timeouts) {
  const auto section = reader.section(entry, kTimeoutKeys);
  if (!section) return;
  // Zero would fail every attempt before it starts.
  for (const Entry& e : section->entries) {
    if (e.key == "connect") {
      assign(timeouts.connect, reader.duration(e, Zero::rejected));
    } else if (e.key == "first_byte") {
      assign(timeouts.first_byte, reader.duration(e, Zero::rejected));
    } else if (e.key == "idle") {
      assign(timeouts.idle, reader.duration(e, Zero::rejected));
    } else if (e.key == "total") {
      assign(timeouts.total, reader.duration(e, Zero::rejected));
    }
  }
}

void read_pool(NodeReader& reader, const Entry& entry, PoolSettings& pool) {
  const auto section = reader.section(entry, kPoolKeys);
  if (!section) return;
  // Zero is meaningful for both: keep no idle connections.
  for (const Entry& e : section->entries) {
    if (e.key == "max_idle") {
      assign(pool.max_idle, reader.integer(e, 0, kMaxPoolIdle));
    } else if (e.key == "idle_expiry") {
      assign(pool.idle_expiry, reader.duration(e, Zero::allowed));
    }
  }
}

void read_health_check(NodeReader& reader, const Entry& entry, HealthCheck& check) {
  // Presence enables it: `health_check: {}` probes with the defaults.
  check.enabled = true;
  const auto section = reader.section(entry, kHealthCheckKeys);
  if (!section) return;
  bool timing_read = true;  // no problem with interval or timeout on its own
  for (const Entry& e : section->entries) {
    if (e.key == "path") {
      const auto path = reader.text(e);
      if (!path) continue;
      // Appended to the base URL's path, so "models" would probe ".../v1models".
      if (!path->starts_with('/')) {
        reader.error(e.value_position(),
                     e.path + ": expected a path starting with '/', got " + quote(*path));
        continue;
      }
      check.path = *path;
    } else if (e.key == "interval" || e.key == "timeout") {
      const auto duration = reader.duration(e, Zero::rejected);
      timing_read = timing_read && duration.has_value();
      assign(e.key == "interval" ? check.interval : check.timeout, duration);
    } else if (e.key == "expect_status") {
      assign(check.expect_status, reader.integer(e, 100, 599));
    } else if (e.key == "failures") {
      assign(check.failures_to_unhealthy, reader.integer(e, 1, kMaxHealthFailures));
    }
  }

  // One probe at a time: a probe still waiting when the next is due would overlap it. Reported
  // where the section sets one of the two, at the timeout when it sets both.
  const Entry* interval = section->find("interval");
  const Entry* timeout = section->find("timeout");
  if (!timing_read || (!interval && !timeout) || check.timeout < check.interval) return;
  if (timeout) {
    reader.error(timeout->value_position(), timeout->path + ": " + show_duration(check.timeout) +
                                                " is not shorter than interval (" +
                                                show_duration(check.interval) +
                                                (interval ? "" : ", the default") + ")");
  } else {
    reader.error(interval->value_position(), interval->path + ": " + show_duration(check.interval) +
                                                 " is not longer than timeout (" +
                                                 show_duration(check.timeout) + ", the default)");
  }
}

void read_forward_headers(NodeReader& reader, const Entry& entry, Provider& provider) {
  const auto items = reader.list(entry, "a list of header names");
  if (!items) return;
  for (const Item& item : *items) {
    const auto text = reader.text(item);
    if (!text) continue;
    // A bare "*" would pass the client's Authorization (the gateway key) to the provider.
    if (*text == "*") {
      reader.error(item.position,
                   item.path + ": '*' alone would forward every header, credentials included");
      continue;
    }
    std::string_view name = *text;
    if (!name.empty() && name.back() == '*') name.remove_suffix(1);
    if (name.empty() || !std::all_of(name.begin(), name.end(), is_token_char)) {
      reader.error(item.position, item.path + ": " + quote(*text) +
                                      " is not a header name (a trailing * matches a prefix)");
      continue;
    }
    // Header names are case-insensitive; the hot path compares against lower-case names.
    provider.forward_headers.push_back(lower(*text));
  }
}

}  // namespace

std::string_view to_string(ProviderType type) {
  return kTypes[static_cast<std::size_t>(type)];
}

// Empty means "none", which lets `ca_file: ${CA_FILE:-}` be optional.
std::optional<std::string> read_file_path(NodeReader& reader, const Entry& entry,
                                          const fs::path& base_dir) {
  const auto text = reader.text(entry);
  if (!text || text->empty()) return std::nullopt;
  fs::path path(*text);
  if (path.is_relative()) path = base_dir / path;
  const std::string shown = path.lexically_normal().string();

  // Checked now so a typo fails --check-config instead of the first TLS handshake.
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    reader.error(entry.value_position(), entry.path + ": " + quote(shown) + " is a directory");
    return std::nullopt;
  }
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (!file) {
    const std::string reason = std::error_code(errno, std::generic_category()).message();
    reader.error(entry.value_position(),
                 entry.path + ": cannot read " + quote(shown) + ": " + reason);
    return std::nullopt;
  }
  std::fclose(file);
  return shown;
}

Provider read_provider(NodeReader& reader, const Entry& entry, const fs::path& base_dir) {
  Provider provider;
  provider.name = entry.key;
  const auto section = reader.section(entry, kProviderKeys);
  if (!section) return provider;

  reader.require(*section, "type");
  reader.require(*section, "base_url");
  // Read first: the base_url check depends on it, wherever it appears.
  bool allow_plain_http = false;
  if (const Entry* e = section->find("allow_plain_http")) {
    assign(allow_plain_http, reader.boolean(*e));
  }

  for (const Entry& e : section->entries) {
    if (e.key == "type") {
      if (const auto type = reader.choice(e, kTypes)) provider.type = ProviderType(*type);
    } else if (e.key == "api_version") {
      assign(provider.api_version, reader.text(e));
    } else if (e.key == "preset") {
      if (const auto preset = reader.choice(e, kPresets)) provider.preset = Preset(*preset);
    } else if (e.key == "max_tokens_field") {
      if (const auto field = reader.choice(e, kMaxTokensFields)) {
        provider.max_tokens_field = MaxTokensField(*field);
      }
    } else if (e.key == "base_url") {
      read_base_url(reader, e, allow_plain_http, provider);
    } else if (e.key == "api_key") {
      // A secret: text(..., secret) never quotes it, and no message here mentions its value.
      assign(provider.api_key, reader.text(e, /*secret=*/true));
    } else if (e.key == "ca_file") {
      assign(provider.ca_file, read_file_path(reader, e, base_dir));
    } else if (e.key == "timeouts") {
      read_timeouts(reader, e, provider.timeouts);
    } else if (e.key == "pool") {
      read_pool(reader, e, provider.pool);
    } else if (e.key == "forward_headers") {
      read_forward_headers(reader, e, provider);
    } else if (e.key == "health_check") {
      read_health_check(reader, e, provider.health_check);
    } else if (e.key == "rate_limit") {
      // rate_limit: the upstream's published limits, kept by the gateway (0 = none).
      if (const auto limits = reader.section(e, kRateLimitKeys)) {
        // rpm: requests per minute.
        if (const Entry* rpm = limits->find("rpm"))
          assign(provider.rpm, reader.integer(*rpm, 0, kMaxRpm));
        // tpm: tokens per minute, estimated prompt plus max_tokens, corrected to the usage.
        if (const Entry* tpm = limits->find("tpm"))
          assign(provider.tpm, reader.integer(*tpm, 0, kMaxTpm));
      }
    }
  }
  check_applies(reader, *section, provider);
  if (provider.api_version.empty()) provider.api_version = default_api_version(provider.type);
  return provider;
}

}  // namespace switchyard::config
