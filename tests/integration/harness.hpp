// Test harness for integration tests: real processes (switchyard, switchyard-mock) on loopback,
// a small blocking HTTP client, temporary directories and a test certificate authority.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace switchyard::testing {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using json = nlohmann::json;

// Polls `condition` until it holds or `timeout` passes.
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 5000ms);

class TempDir {
 public:
  TempDir();
  ~TempDir();
  const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

std::string read_file(const fs::path& path);
void write_file(const fs::path& path, const std::string& text);

// A child process with stdout and stderr captured to files.
class Process {
 public:
  Process(const std::string& program, const std::vector<std::string>& args, const fs::path& out,
          const fs::path& err, const std::map<std::string, std::string>& env = {});
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int signo) const;
  // The exit status if the process ended within `timeout`.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  bool running();
  std::string out() const { return read_file(out_); }
  std::string err() const { return read_file(err_); }

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  fs::path out_, err_;
};

// Runs a program to completion, capturing stdout and stderr.
struct RunResult {
  int exit_code = -1;
  std::string out, err;
};
RunResult run_program(const std::string& program, const std::vector<std::string>& args);

struct Response {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;                            // de-chunked
  std::string header(const std::string& name) const;
  json json_body() const { return json::parse(body); }
};

// One keep-alive HTTP/1.1 connection; with `tls`, encrypted but unverified (for the mock); from
// the loopback address `source` when given (another client address: 127.0.0.2, …).
class HttpClient {
 public:
  explicit HttpClient(int port, bool tls = false, const std::string& source = {});
  ~HttpClient();
  Response request(const std::string& method, const std::string& target,
                   const std::string& body = {},
                   const std::vector<std::pair<std::string, std::string>>& headers = {});
  Response post_json(const std::string& target, const json& body,
                     const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    return request("POST", target, body.dump(), headers);
  }
  Response get(const std::string& target) { return request("GET", target); }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A raw TCP connection for what a well-behaved client would not do.
class RawConnection {
 public:
  // `receive_buffer` > 0 caps the socket's receive buffer (set before connecting, so the
  // window never grows past it): a client that stops reading then holds back little. Such a
  // client also announces an Internet-sized MSS (1460): with loopback's 64 KiB one, a window of
  // about one segment leaves the kernel's window updates to its zero-window probes, and the
  // transfer crawls at a segment per 200 ms to several seconds, whoever sends.
  explicit RawConnection(int port, int receive_buffer = 0);
  ~RawConnection();
  void send(const std::string& bytes);
  // Reads whatever arrives within `timeout` (until the peer closes, or `until` appears).
  std::string receive(std::chrono::milliseconds timeout, const std::string& until = {});
  bool closed_by_peer(std::chrono::milliseconds timeout);
  void close();

 private:
  int fd_ = -1;
};

// `chat` request bodies used throughout.
json chat_body(const std::string& model, bool stream = false, bool include_usage = false);

// MCP over Streamable HTTP: a JSON-RPC request; the headers a POST of one needs (in `session`,
// once there is one); and an initialize (2025-11-25, offering nothing) POSTed to /mcp, whose
// answer has the session in its Mcp-Session-Id.
json mcp_request(int id, const std::string& method, const json& params = json::object());
std::vector<std::pair<std::string, std::string>> mcp_headers(const std::string& session = {});
Response mcp_initialize(HttpClient& client);

// SSE `data:` payloads of a de-chunked event-stream body, in order.
std::vector<std::string> sse_data(const std::string& body);

// switchyard-mock on an ephemeral loopback port.
class Mock {
 public:
  struct Options {
    std::string name = "mock";
    std::vector<std::string> args;  // extra flags: --status 500, --delay-ms 100, TLS files...
    int port = 0;                   // 0: ephemeral
  };
  explicit Mock(const TempDir& dir, Options options);
  explicit Mock(const TempDir& dir, const char* name = "mock") : Mock(dir, Options{name}) {}

  int port() const { return port_; }
  const std::string& name() const { return name_; }
  bool tls() const { return tls_; }
  json stats();
  json requests(int limit = 50);
  Process& process() { return *process_; }

 private:
  std::string name_;
  int port_ = 0;
  bool tls_ = false;
  std::unique_ptr<Process> process_;
};

// switchyard itself, on an ephemeral loopback port, with its stdout (JSON lines) captured.
class Gateway {
 public:
  // `config` is YAML; its server section must not set `listen` (the harness does).
  Gateway(const TempDir& dir, const std::string& config,
          const std::map<std::string, std::string>& env = {});

  int port() const { return port_; }
  Process& process() { return *process_; }
  const fs::path& config_path() const { return config_file_; }
  // Replaces the config file (with the harness's `listen` again) the way an editor saves: written
  // in place, or written beside it and renamed over it (vim, most IDEs).
  enum class Save { in_place, rename };
  void edit_config(const std::string& config, Save how = Save::rename) const;
  // The JSON lines the gateway logged so far (request lines are flushed every 100 ms).
  std::vector<json> log_lines();
  // The request line with this request id, waiting for it to be flushed.
  json request_log(const std::string& request_id);

 private:
  int port_ = 0;
  std::unique_ptr<Process> process_;
  fs::path out_, config_file_;
};

// Waits until `gw` has logged `connections` Redis connections — one per worker, the reloader's
// client and its subscriber: workers + 2 — so that no request meets a connection still coming
// up (it would fall back to local counters, or miss the cache).
bool redis_connected(Gateway& gw, int connections);

// A throwaway CA and a server certificate signed by it, made with the openssl CLI.
struct TestPki {
  fs::path ca_cert, server_cert, server_key;
};
// `names` are SAN entries such as "DNS:localhost", "IP:127.0.0.1".
TestPki make_test_pki(const TempDir& dir, const std::string& names);

// POST /_mock/defaults: `directives` ({"status":"503","delay-ms":"100"}, named as the x-mock-*
// headers without the prefix) become the mock's defaults for every later request, including
// those without x-mock-* headers (health probes); throws if the mock refuses them.
void set_mock_defaults(const Mock& mock, const json& directives);
// POST /_mock/reset: counters, request log and defaults back to how the mock started.
void reset_mock(const Mock& mock);
// The chat completions the mock has answered (POST /v1/chat/completions).
int chat_requests(Mock& mock);
// What `switchyard --hash-key` prints for `key`: the sha256 a `keys:` entry configures.
std::string hash_key(const std::string& key);
// A loopback port nobody listens on (connections to it are refused).
int closed_port();
// The resident set of a running process, in bytes (VmRSS).
long resident_bytes(pid_t pid);

}  // namespace switchyard::testing

namespace switchyard::testing {

// redis-server on a free loopback port, without persistence, its files in `dir`.
class RedisServer {
 public:
  struct Options {
    std::string password;  // --requirepass, when not empty
  };
  explicit RedisServer(const TempDir& dir, Options options = {});
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  int port() const { return port_; }
  // redis://127.0.0.1:<port>[/db], without credentials.
  std::string url(int db = 0) const;
  // The same with `userinfo@` ("user:password" or ":password").
  std::string url_with(const std::string& userinfo, int db = 0) const;
  Process& process() { return *process_; }
  // SIGKILL, and waits until it is gone.
  void kill();
  // A new, empty server on the same port (killing the old one first if it runs); waits until it
  // answers.
  void restart();

 private:
  void launch();

  fs::path dir_;
  Options options_;
  int port_ = 0;
  int generation_ = 0;
  std::unique_ptr<Process> process_;
};

}  // namespace switchyard::testing
