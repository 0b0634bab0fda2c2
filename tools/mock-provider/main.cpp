// switchyard-mock: parses the command line and runs the mock provider (mock_server.hpp).
#include "mock_server.hpp"

#include <charconv>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

namespace {

using switchyard::mock::MockConfig;

constexpr std::string_view kUsage = R"(usage: switchyard-mock --listen HOST:PORT [options]

A fake LLM provider for tests. The path picks the wire format (docs/providers.md):
  OpenAI     POST .../chat/completions   JSON, or SSE with "stream":true
             POST .../embeddings         GET .../v1/models
  Anthropic  POST .../v1/messages        JSON, or SSE with "stream":true; needs the
                                         anthropic-version header
  Gemini     POST .../models/M:generateContent
             POST .../models/M:streamGenerateContent   ?alt=sse: SSE, else a JSON array
             POST .../models/M:batchEmbedContents, :embedContent
Requests the real API would refuse (an unknown field, a bad role, an unanswered tool call,
...) get its 400, in its wording. Embeddings are a deterministic function of the text, the
same in both formats (8 dimensions unless the request asks for more or fewer).

What every format answers:
  - the last message is a tool result -> the text "Tool result: <its text>"
  - the request offers tools and tool_choice is not none -> tool calls (x-mock-tool-calls),
    to the tool tool_choice names, else to the offered tools in turn (x-mock-tool-args)
  - otherwise -> x-mock-content, default "Hello from NAME."

  --listen HOST:PORT     address to serve on; PORT 0 picks a free port, printed as
                         "listening on HOST:PORT" on stdout
  --name NAME            this mock's name, in ids, errors and x-mock-target (default: mock)
  --api-key KEY          require KEY on every request outside /_mock/, carried as the format
                         carries it: OpenAI "Authorization: Bearer KEY" or "api-key: KEY"
                         (else 401), Anthropic "x-api-key: KEY" (else 401), Gemini
                         "x-goog-api-key: KEY" or ?key=KEY (else 400 API_KEY_INVALID);
                         repeat it to accept any of several keys
  --port-file FILE       also write the bound port to FILE (atomically, via FILE.tmp)
  --tls-cert FILE        serve HTTPS with this PEM certificate chain ...
  --tls-key FILE         ... and this PEM private key
  --threads N            threads running the event loop (default: 1)

Default behaviour, overridden per request by the x-mock-* header of the same name
(x-mock-target: NAME applies a request's headers only on the mock called NAME):
  --status N             answer this error status, shaped as the format's error
  --retry-after VALUE    retry-after header sent with --status
  --error-message TEXT   the message of a scripted error (status or in-stream)
  --error-code TEXT      its OpenAI code / Anthropic error type / Gemini status
  --delay-ms N           wait before the response head
  --delay-percent N      apply --delay-ms to N% of requests only (0..100, default 100), spread
                         evenly: the mock's k-th request (counted from 1 over all requests
                         outside /_mock/, since start-up or POST /_mock/reset) is delayed iff
                         floor(k*N/100) > floor((k-1)*N/100); 10 delays the 10th, 20th, ...
  --trickle-ms N         a slow-loris upstream: the whole response, head included, is written
                         one byte at a time, N ms apart
  --chunks N             content chunks of a stream (default 3); also the output tokens
  --chunk-delay-ms N     wait before each chunk (or tool call) of a stream
  --drop-after N         cut the connection after N chunks (or tool calls) of a stream. A stream
                         sends its 200 head and opening events first (OpenAI: the role chunk;
                         Anthropic: message_start, content_block_start, ping; Gemini without
                         alt=sse: "["), so 0 cuts a stream after its head; 0 on any other
                         request cuts it instead of answering, before the head
  --drop-before-head     cut the connection instead of answering (after --delay-ms), before
                         any byte of the head, stream or not
  --error-event-after N  send the format's in-stream error after N chunks, then end the body
  --malformed            send a body / an event that is not JSON
  --no-done              end a stream without its end marker ([DONE], message_stop, or
                         Gemini's last event with finishReason)
  --content TEXT         the text answer
  --finish-reason VALUE  sent verbatim as finish_reason / stop_reason / finishReason
  --tool-calls N         how many tool calls when tools are offered (default 1; 0: text)
  --tool-args JSON       their arguments, a JSON object (default {"location":"Oslo"})
  --cached-tokens N      cached prompt tokens to report in usage (default 0)
  --thoughts-tokens N    reasoning tokens to report in usage (default 0)
  --blocked REASON       Gemini only: a blocked prompt (promptFeedback.blockReason)
An empty value for --error-message, --error-code, --finish-reason or --blocked restores the
mock's own choice. Unknown x-mock-* headers are refused with a 400. A scripted status, delay,
drop or trickle applies to every request outside /_mock/, GET .../v1/models included (what
a health check probes). To cut is to close the socket at once, without a TLS close_notify:
the client reads the end of the connection where it expected more.

Control endpoints, never counted or logged: GET /_mock/stats, GET /_mock/requests?limit=N
(method, path, target with query, headers, body and response of each request),
POST /_mock/reset (also restores the command line's defaults), POST /_mock/defaults with a
JSON object of directives named as the headers without x-mock- ({"status":"503",
"delay-ms":"100"}; numbers and booleans may be unquoted): sets them as the defaults for
every later request, on top of the current ones; a bad one is refused with a 400 and none
is applied.
)";

std::optional<int> parse_int(std::string_view text, int min, int max) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value < min || value > max) {
    return std::nullopt;
  }
  return value;
}

// Accepts "127.0.0.1:8080" and "[::1]:8080".
bool parse_listen(std::string_view text, MockConfig& config) {
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return false;
  std::string_view host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  boost::system::error_code ec;
  config.address = boost::asio::ip::make_address(std::string(host), ec);
  const auto port = parse_int(text.substr(colon + 1), 0, 65535);
  if (ec || !port) return false;
  config.port = static_cast<unsigned short>(*port);
  return true;
}

// Returns an error message, or nullopt when `config` is complete.
std::optional<std::string> parse_flags(int argc, char** argv, MockConfig& config) {
  bool listen_given = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (!arg.starts_with("--")) return "unexpected argument " + std::string(arg);
    std::string_view flag = arg.substr(2);
    std::optional<std::string_view> value;
    if (auto equals = flag.find('='); equals != std::string_view::npos) {
      value = flag.substr(equals + 1);
      flag = flag.substr(0, equals);
    }
    // Switches take no value; the rest take the next argument unless given as --flag=value.
    if (flag == "malformed" || flag == "no-done" || flag == "drop-before-head") {
      if (auto error =
              switchyard::mock::apply_directive(config.defaults, flag, value.value_or("1"))) {
        return "--" + std::string(flag) + ": " + *error;
      }
      continue;
    }
    if (!value) {
      if (i + 1 >= argc) return "--" + std::string(flag) + " needs a value";
      value = argv[++i];
    }
    if (flag == "listen") {
      if (!parse_listen(*value, config)) return "bad --listen " + std::string(*value);
      listen_given = true;
    } else if (flag == "name") {
      if (value->empty()) return "--name must not be empty";
      config.name = std::string(*value);
    } else if (flag == "api-key") {
      if (value->empty()) return "--api-key must not be empty";
      config.api_keys.emplace_back(*value);
    } else if (flag == "port-file") {
      config.port_file = std::string(*value);
    } else if (flag == "tls-cert") {
      config.tls_cert = std::string(*value);
    } else if (flag == "tls-key") {
      config.tls_key = std::string(*value);
    } else if (flag == "threads") {
      auto threads = parse_int(*value, 1, 256);
      if (!threads) return "bad --threads " + std::string(*value);
      config.threads = *threads;
    } else if (auto error = switchyard::mock::apply_directive(config.defaults, flag, *value)) {
      return "--" + std::string(flag) + ": " + *error;
    }
  }
  if (!listen_given) return "--listen is required";
  if (config.tls_cert.empty() != config.tls_key.empty()) {
    return "--tls-cert and --tls-key go together";
  }
  return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--help" || std::string_view(argv[i]) == "-h") {
      std::cout << kUsage;
      return 0;
    }
  }
  MockConfig config;
  if (auto error = parse_flags(argc, argv, config)) {
    std::cerr << "switchyard-mock: " << *error << "\n\n" << kUsage;
    return 2;
  }
  return switchyard::mock::run_mock_server(config);
}
