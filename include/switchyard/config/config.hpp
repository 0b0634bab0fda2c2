// The validated, immutable configuration snapshot. Everything else reads these structs; only
// config/ knows YAML. A Config is built once by load_config() and shared read-only between
// worker threads.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "switchyard/result.hpp"

namespace switchyard::config {

using Millis = std::chrono::milliseconds;

// An upstream base URL, split once at load time.
struct Url {
  bool tls = false;
  std::string host;  // IPv6 literals without brackets
  std::uint16_t port = 0;
  std::string path;       // base path without a trailing slash: "/v1", or ""
  std::string authority;  // what goes into the Host header: "api.openai.com", "127.0.0.1:9001"

  bool operator==(const Url&) const = default;
};

enum class ProviderType { openai, anthropic, gemini, azure };

// How an OpenAI-compatible provider departs from OpenAI (docs/providers.md,
// "OpenAI-compatible: presets").
enum class Preset {
  openai,   // OpenAI itself and the faithful ones (DeepSeek, Groq, Together, vLLM, Ollama…)
  mistral,  // tool-call ids of 9 alphanumerics, random_seed for seed, "any" for "required"
};

// Which name the output-token limit travels under: OpenAI's reasoning models take only
// max_completion_tokens, many compatible servers only max_tokens.
enum class MaxTokensField { as_sent, max_tokens, max_completion_tokens };

struct Timeouts {
  Millis connect{5'000};      // TCP connect + TLS handshake
  Millis first_byte{60'000};  // request written → response head (streams: → first event)
  Millis idle{60'000};        // between two reads of a response body
  Millis total{600'000};      // the whole attempt

  bool operator==(const Timeouts&) const = default;
};

struct PoolSettings {
  std::size_t max_idle = 64;   // idle keep-alive connections kept per worker
  Millis idle_expiry{60'000};  // an idle connection older than this is closed

  bool operator==(const PoolSettings&) const = default;
};

// An optional periodic probe of a provider (GET base_url + path with the provider's
// credentials). Failing probes deprioritise the provider's targets; a passing one restores them.
struct HealthCheck {
  bool enabled = false;
  std::string path = "/models";  // appended to the base URL's path
  Millis interval{10'000};
  Millis timeout{2'000};
  int expect_status = 200;
  unsigned failures_to_unhealthy = 2;  // consecutive failed probes before the provider is down

  bool operator==(const HealthCheck&) const = default;
};

struct Provider {
  std::string name;
  ProviderType type = ProviderType::openai;
  Url base_url;
  std::string api_key;  // may be empty (local servers)
  std::string ca_file;  // extra trust anchors (PEM); empty = system CAs only
  Timeouts timeouts;
  PoolSettings pool;
  // Client request headers passed through to this provider, lower case; a trailing '*' matches a
  // prefix ("x-mock-*", "openai-beta").
  std::vector<std::string> forward_headers;
  // anthropic: the anthropic-version header (default 2023-06-01); azure: the api-version query
  // parameter (default 2024-10-21; "v1" selects the /openai/v1 API, where the body's model
  // names the deployment); gemini: the path's API version (default v1beta).
  std::string api_version;
  Preset preset = Preset::openai;  // openai type only
  MaxTokensField max_tokens_field = MaxTokensField::as_sent;
  HealthCheck health_check;
  // The upstream's published requests-per-minute limit, kept by the gateway (0 = none): a target
  // over it is skipped for the next one instead of collecting a 429.
  std::uint32_t rpm = 0;
  // Likewise for tokens per minute: prompt (estimated) plus max_tokens are taken before sending
  // and corrected to the reported usage afterwards.
  std::uint64_t tpm = 0;

  bool operator==(const Provider&) const = default;
};

struct Model {
  std::string name;           // the alias clients use
  std::string provider;       // a Provider::name
  std::string upstream;       // the model name sent to the provider
  double input_per_mtok = 0;  // USD per 1M tokens
  double output_per_mtok = 0;
  double cached_input_per_mtok = 0;  // the input price unless configured
  std::uint64_t context = 0;         // context window in tokens, 0 = unknown
  // Output tokens asked for when the client names no limit and the provider requires one
  // (Anthropic); 0 = the adapter's default.
  std::uint64_t max_tokens = 0;

  bool operator==(const Model&) const = default;
};

// How often one target is tried for one request, and how long to wait in between.
struct RetryPolicy {
  unsigned attempts = 2;  // per target, the first try included
  Millis backoff_base{250};
  Millis backoff_cap{8'000};
  // A Retry-After (or rate-limit reset) longer than this is not waited for: the target is
  // cooled down for that long and the next target is tried instead.
  Millis max_retry_after{30'000};
};

// The circuit breaker of every target (a provider + model pair).
struct BreakerPolicy {
  Millis window{30'000};  // sliding window of outcomes and latencies
  unsigned min_requests = 10;
  double error_rate = 0.5;  // opens at or above this share of failures (with min_requests)
  unsigned consecutive_failures = 5;  // ... or after this many failures in a row (0 = off)
  Millis cooldown{30'000};            // open → half-open
  unsigned half_open_probes = 1;      // concurrent trial requests while half-open

  bool operator==(const BreakerPolicy&) const = default;
};

enum class Strategy { ordered, weighted, lowest_latency, least_busy };
// The name the config file uses for it.
std::string_view to_string(Strategy strategy);
std::string_view to_string(ProviderType type);

struct Hedge {
  bool enabled = false;
  // Start the next target when the first has not answered within this long, or, with
  // `adaptive`, within the target's observed p95 time to first byte (`after` until there are
  // enough samples).
  Millis after{1'000};
  bool adaptive = false;
};

// Defaults for every route (the `resilience:` section); a route may override retry and deadline.
struct Resilience {
  Millis deadline{600'000};  // the whole request; x-switchyard-deadline overrides it
  RetryPolicy retry;
  BreakerPolicy breaker;
  double explore = 0.05;  // share of ranked requests that try a not-best target first
};

// The rolling windows a budget caps spend over (a month is 30 days).
enum class Window { minute, hour, day, month };
inline constexpr std::size_t kWindowCount = 4;
// The config file's name for a window's cap: "usd_per_minute", ...
std::string_view budget_key(Window window);

// Spending caps in USD; a cap of 0 is no cap in that window.
struct Budget {
  std::array<double, kWindowCount> usd{};  // by Window
  // routes only: the route or model alias that serves once a cap is reached; empty = refuse
  // with 429 until the window has room again.
  std::string then;
  bool capped() const {
    for (const double cap : usd)
      if (cap > 0) return true;
    return false;
  }
};

// What makes a request "complex" beyond its size. Each signal alone suffices.
struct ComplexitySignals {
  bool tools = true;                  // a non-empty `tools` array
  bool json_schema = false;           // response_format of type json_schema
  std::size_t max_turns = 0;          // more messages than this (0 = not a signal)
  bool images = false;                // any image_url content part
  std::vector<std::string> patterns;  // ECMAScript regexes, case-insensitive, over message text
};

// An external judge of difficulty: a model alias, asked through its provider for a score in
// [0, 1]. On timeout or error the heuristic decides.
struct Classifier {
  std::string model;  // empty = none
  Millis timeout{50};
  double threshold = 0.5;  // score at or above → complex
};

// A classifier route: no targets of its own; each request goes to `simple` or `complex`.
struct Complexity {
  std::string simple;                     // a route with targets or a model alias
  std::string complex;                    // likewise
  std::uint64_t max_simple_tokens = 500;  // estimated prompt tokens below this can be simple
  ComplexitySignals signals;
  Classifier classifier;
};

struct Route {
  std::string name;
  // A classifier route (`complexity:`) has no targets, strategy, weights, retry, deadline, hedge
  // or budget of its own: the routes it chooses between decide those.
  std::optional<Complexity> complexity;
  Budget budget;
  std::vector<std::string> targets;  // Model::name, in order of preference
  std::vector<double> weights;       // per target (strategy weighted); 1 when not given
  Strategy strategy = Strategy::ordered;
  RetryPolicy retry;         // the resilience default unless the route sets its own
  Millis deadline{600'000};  // likewise
  Hedge hedge;
  // How long this route's answers stay in the response cache; unset = cache.ttl, 0 = never
  // cached.
  std::optional<Millis> cache_ttl;
};

// What a gateway key may reach through the MCP gateway (`keys.<name>.mcp`).
struct McpAccess {
  std::vector<std::string> servers;  // the servers it may use; empty = all
  // Globs (`*`, `?`) over tool names as /mcp shows them, `<server>__<tool>`: a tool is listed and
  // callable when it matches an allow pattern (or none is given) and no deny pattern.
  std::vector<std::string> allow_tools;
  std::vector<std::string> deny_tools;
  // The key's tools/call, every server together: per minute (shared through Redis when
  // configured) and in flight in this process. 0 = no limit.
  std::uint32_t rpm = 0;
  std::uint32_t max_concurrency = 0;

  bool may_use_server(std::string_view server) const {
    if (servers.empty()) return true;
    for (const auto& s : servers)
      if (s == server) return true;
    return false;
  }

  bool operator==(const McpAccess&) const = default;
};

// A client credential of the gateway itself. Only the SHA-256 of the key is configured (see
// `switchyard --hash-key`), so the file holds nothing a reader could send.
struct GatewayKey {
  std::string name;                 // what the log and admin output call it
  std::string sha256;               // 64 lower-case hex digits
  std::vector<std::string> routes;  // routes and model aliases it may use; empty = all
  bool admin = false;               // may use /admin/
  Budget budget;                    // no `then`: a key over budget is refused
  std::uint32_t rpm = 0;            // requests per minute, 0 = unlimited
  std::uint64_t tpm = 0;            // tokens per minute (estimated prompt + max_tokens), 0 = none
  McpAccess mcp;

  // Whether the key may use the route or model alias `route`.
  bool may_use(std::string_view route) const {
    if (routes.empty()) return true;
    for (const auto& r : routes)
      if (r == route) return true;
    return false;
  }
};

struct Server {
  std::string host = "0.0.0.0";
  std::uint16_t port = 8080;
  unsigned workers = 0;  // 0 = one per available core
  std::size_t max_body = 8 * 1024 * 1024;
  std::size_t max_header = 16 * 1024;
  std::size_t max_connections = 10'000;
  // Connections one client address may hold open at once; 0 = no limit of its own.
  std::size_t max_connections_per_client = 0;
  Millis read_timeout{30'000};   // first byte of a request → request fully read
  Millis idle_timeout{75'000};   // keep-alive connection without a request
  Millis write_timeout{60'000};  // one write to a client that stopped reading
  Millis drain_timeout{30'000};  // SIGTERM → in-flight work given this long
  // Responses report the upstream's model name instead of the one the client asked for.
  bool report_upstream_model = false;

  bool operator==(const Server&) const = default;
};

struct Log {
  enum class Format { json, text };
  std::string level = "info";    // trace, debug, info, warn, error, off
  bool requests = true;          // one line per request
  Format format = Format::json;  // text: `key=value` pairs (logfmt), for people reading a terminal
  std::string file;              // appended to; empty = stdout

  bool operator==(const Log&) const = default;
};

// `metrics:` — GET /metrics in Prometheus text format. On unless `enabled: false`.
struct Metrics {
  bool enabled = true;

  bool operator==(const Metrics&) const = default;
};

// `tracing:` — W3C trace context is always propagated to upstreams; with this section spans are
// also exported as OTLP/HTTP JSON to `endpoint`. Off unless the section is present.
struct Tracing {
  bool enabled = false;
  std::string endpoint;  // the collector's traces URL, e.g. http://127.0.0.1:4318/v1/traces
  // Of the traces that start here (no traceparent from the client), the share exported. A
  // client's traceparent decides for its own trace: its sampled flag is obeyed.
  double sample = 1;
  std::vector<std::pair<std::string, std::string>> headers;  // sent to the collector (secrets)
  std::string ca_file;
  std::size_t max_queue = 8192;  // spans waiting for export; beyond, new ones are dropped
  std::size_t batch = 512;       // spans per export request
  Millis interval{1'000};        // longest a span waits before its batch is sent
  Millis timeout{5'000};         // of one export request
  std::string service_name = "switchyard";

  bool operator==(const Tracing&) const = default;
};

// The response cache (`cache:`). Off unless the section is present.
struct Cache {
  enum class Backend { memory, redis };
  bool enabled = false;
  Backend backend = Backend::memory;
  Millis ttl{3'600'000};                      // unless a route sets its own cache_ttl
  std::size_t max_bytes = 256 * 1024 * 1024;  // memory backend: the whole cache
  std::size_t max_entry = 1024 * 1024;        // an answer larger than this is not stored
  // Off: the key includes the route that served, so two routes never share an answer. On: the
  // same request gets the same answer whichever route or model it names.
  bool share_across_models = false;
  // Requests with a higher temperature are answered afresh (0: only deterministic ones).
  double max_temperature = 0;
};

// `redis:` — shared state across replicas: cache (backend redis), route overrides, spend and
// limits. Debian 12's hiredis has no TLS: Redis is reached over plain TCP.
struct Redis {
  std::string url;      // redis://[:password@]host:port[/db], validated at load
  Millis timeout{250};  // per command; longer counts as Redis being down
  Millis connect_timeout{1'000};
  std::string prefix = "switchyard:";  // of every key and channel

  bool operator==(const Redis&) const = default;
};

// One MCP server the gateway federates (`mcp.servers.<name>`).
struct McpServer {
  enum class Transport { stdio, http, sse };
  std::string name;  // lower-case letters, digits and '-': it prefixes the server's tool names
  Transport transport = Transport::stdio;
  // stdio: the command Switchyard spawns and supervises.
  std::string command;
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;  // added to the gateway's environment
  std::string cwd;
  // http: the server's Streamable HTTP endpoint (sse: the event stream of the HTTP+SSE transport
  // of 2024-11-05) and what is sent with every request to it.
  Url url;
  std::vector<std::pair<std::string, std::string>> headers;  // credentials: never logged
  std::string ca_file;
  Millis timeout{60'000};  // one request to the server, a tools/call's whole answer included
  // tools/call at this server, every key together: per minute (shared by the replicas through
  // Redis when configured) and in flight in this process. 0 = no limit.
  std::uint32_t rpm = 0;
  std::uint32_t max_concurrency = 0;
  // `sampling:` — the server's sampling/createMessage requests answered by one of the gateway's
  // routes (as a chat completion of the key whose call the server is serving) instead of being
  // relayed to the client. Off while `route` is empty.
  struct Sampling {
    std::string route;  // a route or model alias
    // modelPreferences hints: the first hint containing one of these names (in order) picks its
    // route instead.
    std::vector<std::pair<std::string, std::string>> models;
    bool operator==(const Sampling&) const = default;
  };
  Sampling sampling;
  // `roots:` — name → file:// URI: the roots the server is given when it asks (roots/list),
  // instead of the client's. Empty: the request goes to the client.
  std::vector<std::pair<std::string, std::string>> roots;

  bool operator==(const McpServer&) const = default;
};

// `mcp:` — the MCP gateway at /mcp (every server) and /mcp/<server>. Off unless present.
struct Mcp {
  bool enabled = false;
  std::vector<McpServer> servers;
  // Signs the session ids handed out (HMAC-SHA-256); the previous secret is still accepted, for
  // rotation. Empty: a random secret per process, and sessions end with it.
  std::string session_secret;
  std::string previous_session_secret;
  Millis session_ttl{86'400'000};  // a session id is refused this long after initialize
  // Browser origins allowed to call (the Origin header); a request with any other is refused
  // (403) against DNS rebinding. "*" allows every origin. Requests without Origin are allowed.
  std::vector<std::string> allowed_origins;
  std::size_t max_message = 4 * 1024 * 1024;  // one JSON-RPC message from a client
  Millis list_timeout{5'000};   // a server's part of a list; a slower server is left out
  std::size_t page_size = 100;  // items per page of /mcp's aggregated lists
  // Every server that is up is pinged this often (0: never); one that misses two pings in a row
  // is started over (stdio: the process restarted; http: a new session).
  Millis ping_interval{30'000};
  Millis ping_timeout{5'000};
  // What /readyz asks of the servers: nothing (ignore), one of them up (any), or every one (all).
  enum class Readiness { ignore, any, all };
  Readiness readiness = Readiness::ignore;

  const McpServer* find_server(std::string_view name) const;
  bool operator==(const Mcp&) const = default;
};

struct Config {
  std::string source;  // file it was loaded from
  Server server;
  Log log;
  Metrics metrics;
  Tracing tracing;
  std::vector<Provider> providers;
  std::vector<Model> models;
  std::vector<Route> routes;
  Resilience resilience;
  // With any key configured, every request but /healthz and /readyz needs one.
  std::vector<GatewayKey> keys;
  Cache cache;
  std::optional<Redis> redis;
  Mcp mcp;

  const Provider* find_provider(std::string_view name) const;
  const Model* find_model(std::string_view name) const;
  const Route* find_route(std::string_view name) const;
};

// One problem found while loading: printed as "file:line:col: message" (1-based).
struct Diagnostic {
  std::string file;
  int line = 0;
  int column = 0;
  std::string message;
  std::string to_string() const;
};

struct LoadResult {
  std::optional<Config> config;  // set iff errors is empty
  std::vector<Diagnostic> errors;
};

// Looks up ${NAME} references; returns nullopt when the variable is not set.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup process_env();

// Routes and models defined beside the file (in Redis, by `switchyard routes|models set`),
// merged over it by name before validation: a JSON object adds an entry or replaces the file's,
// `null` removes the file's. Each is written exactly as the file's YAML would have it.
struct Overrides {
  struct Entry {
    std::string name;
    std::string json;

    bool operator==(const Entry&) const = default;
  };
  std::vector<Entry> routes, models;

  bool empty() const { return routes.empty() && models.empty(); }
  bool operator==(const Overrides&) const = default;
};

LoadResult load_config_file(const std::string& path, const EnvLookup& env = process_env(),
                            const Overrides& overrides = {});
LoadResult load_config_string(std::string_view yaml, const std::string& file_name,
                              const EnvLookup& env, const Overrides& overrides = {});

// "250ms", "2s", "1m", "1h" or a bare number of seconds.
std::optional<Millis> parse_duration(std::string_view text);
// "8MiB", "16KiB", "1MB", "512" (bytes).
std::optional<std::size_t> parse_size(std::string_view text);
// http(s)://host[:port][/path], or why not.
Result<Url> parse_url(std::string_view text);
// True for hosts where plain http is acceptable: loopback, private and link-local addresses,
// single-label names and the .local/.internal/.localhost suffixes.
bool is_local_host(std::string_view host);

}  // namespace switchyard::config
