#include "harness.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace switchyard::testing {

namespace asio = boost::asio;
namespace http = boost::beast::http;

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
}

TempDir::TempDir() {
  std::string pattern = (fs::temp_directory_path() / "switchyard-test-XXXXXX").string();
  if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  if (!std::getenv("SWITCHYARD_KEEP_TEST_DIRS")) fs::remove_all(path_, ignored);
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

Process::Process(const std::string& program, const std::vector<std::string>& args,
                 const fs::path& out, const fs::path& err,
                 const std::map<std::string, std::string>& env)
    : out_(out), err_(err) {
  std::vector<std::string> argv_storage{program};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(o, STDOUT_FILENO);
    ::dup2(e, STDERR_FILENO);
    for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
    std::vector<char*> argv;
    for (auto& a : argv_storage) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execvp(program.c_str(), argv.data());  // a bare name is looked up in PATH
    ::_exit(127);
  }
}

Process::~Process() {
  if (running()) {
    ::kill(pid_, SIGKILL);
    wait_exit(5000ms);
  }
}

void Process::signal(int signo) const {
  ::kill(pid_, signo);
}

bool Process::running() {
  if (status_) return false;
  int status = 0;
  const pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return false;
  }
  return r == 0;
}

std::optional<int> Process::wait_exit(std::chrono::milliseconds timeout) {
  eventually([&] { return !running(); }, timeout);
  return status_;
}

RunResult run_program(const std::string& program, const std::vector<std::string>& args) {
  TempDir dir;
  Process p(program, args, dir / "out", dir / "err");
  RunResult r;
  r.exit_code = p.wait_exit(30000ms).value_or(-1);
  r.out = p.out();
  r.err = p.err();
  return r;
}

std::string Response::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string{} : it->second;
}

struct HttpClient::Impl {
  asio::io_context io;
  asio::ssl::context tls_context{asio::ssl::context::tls_client};
  asio::ip::tcp::socket socket{io};
  std::optional<asio::ssl::stream<asio::ip::tcp::socket&>> tls;
  boost::beast::flat_buffer buffer;

  template <class F>
  auto with_stream(F&& f) {
    if (tls) return f(*tls);
    return f(socket);
  }
};

HttpClient::HttpClient(int port, bool tls, const std::string& source)
    : impl_(std::make_unique<Impl>()) {
  if (!source.empty()) {
    impl_->socket.open(asio::ip::tcp::v4());
    impl_->socket.bind({asio::ip::make_address(source), 0});
  }
  impl_->socket.connect({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
  impl_->socket.set_option(asio::ip::tcp::no_delay(true));
  if (tls) {
    impl_->tls.emplace(impl_->socket, impl_->tls_context);
    impl_->tls->handshake(asio::ssl::stream_base::client);
  }
}

HttpClient::~HttpClient() = default;

Response HttpClient::request(const std::string& method, const std::string& target,
                             const std::string& body,
                             const std::vector<std::pair<std::string, std::string>>& headers) {
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, "127.0.0.1");
  if (!body.empty()) req.set(http::field::content_type, "application/json");
  for (const auto& [k, v] : headers) req.set(k, v);
  req.body() = body;
  req.prepare_payload();
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  impl_->with_stream([&](auto& stream) {
    http::write(stream, req);
    http::read(stream, impl_->buffer, parser);
  });
  Response r;
  const auto& res = parser.get();
  r.status = res.result_int();
  for (const auto& f : res) {
    std::string name(f.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r.headers[name] = std::string(f.value());
  }
  r.body = res.body();
  return r;
}

RawConnection::RawConnection(int port, int receive_buffer) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (receive_buffer > 0) {
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    const int mss = 1460;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_MAXSEG, &mss, sizeof mss);
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    throw std::runtime_error("connect failed");
  const int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

RawConnection::~RawConnection() {
  close();
}

void RawConnection::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void RawConnection::send(const std::string& bytes) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return;
    sent += static_cast<std::size_t>(n);
  }
}

std::string RawConnection::receive(std::chrono::milliseconds timeout, const std::string& until) {
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    char buf[16384];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) break;
    // Only the new bytes (and what a match could straddle) are searched: streams can be long.
    const std::size_t from = out.size() > until.size() ? out.size() - until.size() : 0;
    out.append(buf, static_cast<std::size_t>(n));
    if (!until.empty() && out.find(until, from) != std::string::npos) break;
  }
  return out;
}

bool RawConnection::closed_by_peer(std::chrono::milliseconds timeout) {
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return false;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0) return true;
    if (n < 0) return errno != EAGAIN;
  }
}

json mcp_request(int id, const std::string& method, const json& params) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}};
}

std::vector<std::pair<std::string, std::string>> mcp_headers(const std::string& session) {
  std::vector<std::pair<std::string, std::string>> out{
      {"accept", "application/json, text/event-stream"}};
  if (!session.empty()) out.emplace_back("mcp-session-id", session);
  return out;
}

Response mcp_initialize(HttpClient& client) {
  return client.post_json("/mcp",
                          mcp_request(1, "initialize",
                                      {{"protocolVersion", "2025-11-25"},
                                       {"capabilities", json::object()},
                                       {"clientInfo", {{"name", "t"}, {"version", "1"}}}}),
                          mcp_headers());
}

json chat_body(const std::string& model, bool stream, bool include_usage) {
  json body = {
      {"model", model},
      {"messages",
       {{{"role", "system"}, {"content", "Be brief."}},
        {{"role", "user"}, {"content", "Say hello, \"gateway\" \u00e9\u4e16\U0001F600."}}}},
      {"temperature", 0.25},
      {"max_tokens", 64},
      {"user", "integration-test"}};
  if (stream) body["stream"] = true;
  if (include_usage) body["stream_options"] = {{"include_usage", true}};
  return body;
}

std::vector<std::string> sse_data(const std::string& body) {
  std::vector<std::string> out;
  std::istringstream in(body);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.rfind("data: ", 0) == 0) out.push_back(line.substr(6));
  }
  return out;
}

namespace {
int wait_for_port_file(const fs::path& file, Process& p) {
  int port = 0;
  eventually(
      [&] {
        if (!p.running()) return true;
        const std::string text = read_file(file);
        if (text.empty()) return false;
        port = std::stoi(text);
        return port > 0;
      },
      10000ms);
  if (port <= 0)
    throw std::runtime_error("process did not report its port; stderr: " + p.err() +
                             " stdout: " + p.out());
  return port;
}

std::string unique_name(const std::string& base) {
  static int counter = 0;
  return base + "-" + std::to_string(++counter);
}
}  // namespace

Mock::Mock(const TempDir& dir, Options options) : name_(options.name) {
  const std::string stem = unique_name("mock-" + name_);
  const fs::path port_file = dir / (stem + ".port");
  std::vector<std::string> args{"--listen",    "127.0.0.1:" + std::to_string(options.port),
                                "--name",      name_,
                                "--port-file", port_file.string()};
  args.insert(args.end(), options.args.begin(), options.args.end());
  tls_ = std::find(args.begin(), args.end(), "--tls-cert") != args.end();
  process_ = std::make_unique<Process>(SWITCHYARD_MOCK_BIN, args, dir / (stem + ".out"),
                                       dir / (stem + ".err"));
  port_ = wait_for_port_file(port_file, *process_);
}

json Mock::stats() {
  // A fresh connection, so the stats request itself leaves the gateway's connection alone.
  HttpClient client(port_, tls_);
  return client.get("/_mock/stats").json_body();
}

json Mock::requests(int limit) {
  HttpClient client(port_, tls_);
  return client.get("/_mock/requests?limit=" + std::to_string(limit)).json_body();
}

namespace {

// The harness owns `listen`: an ephemeral port, read back from the start-up log line.
std::string with_listen(const std::string& config) {
  std::string text = config;
  const std::string listen = "\n  listen: \"127.0.0.1:0\"";
  if (auto at = text.find("server:"); at != std::string::npos) {
    text.insert(at + 7, listen);
  } else {
    text = "server:" + listen + "\n" + text;
  }
  return text;
}

}  // namespace

Gateway::Gateway(const TempDir& dir, const std::string& config,
                 const std::map<std::string, std::string>& env) {
  const std::string stem = unique_name("gateway");
  config_file_ = dir / (stem + ".yaml");
  write_file(config_file_, with_listen(config));
  out_ = dir / (stem + ".out");
  process_ = std::make_unique<Process>(SWITCHYARD_BIN,
                                       std::vector<std::string>{"--config", config_file_.string()},
                                       out_, dir / (stem + ".err"), env);
  eventually(
      [&] {
        if (!process_->running()) return true;
        for (const auto& line : log_lines()) {
          if (line.value("event", "") != "listening") continue;
          const std::string message = line.value("message", "");
          const auto colon = message.find("127.0.0.1:");
          if (colon != std::string::npos) port_ = std::stoi(message.substr(colon + 10));
        }
        return port_ > 0;
      },
      10000ms);
  if (port_ <= 0)
    throw std::runtime_error("gateway did not start; stderr: " + process_->err() +
                             " stdout: " + process_->out());
}

bool redis_connected(Gateway& gw, int connections) {
  return eventually([&] {
    int n = 0;
    for (const auto& line : gw.log_lines()) n += line.value("event", "") == "redis_connected";
    return n >= connections;
  });
}

void Gateway::edit_config(const std::string& config, Save how) const {
  if (how == Save::in_place) {
    write_file(config_file_, with_listen(config));
    return;
  }
  const fs::path temp = config_file_.string() + ".swp";
  write_file(temp, with_listen(config));
  fs::rename(temp, config_file_);
}

std::vector<json> Gateway::log_lines() {
  std::vector<json> lines;
  std::istringstream in(read_file(out_));
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    lines.push_back(json::parse(line, nullptr, false));
  }
  return lines;
}

json Gateway::request_log(const std::string& request_id) {
  json found;
  eventually([&] {
    for (auto& line : log_lines()) {
      if (line.is_object() && line.value("request_id", "") == request_id) {
        found = line;
        return true;
      }
    }
    return false;
  });
  return found;
}

TestPki make_test_pki(const TempDir& dir, const std::string& names) {
  TestPki pki{dir / "ca.pem", dir / "server.pem", dir / "server.key"};
  const auto d = dir.path().string();
  const std::string script =
      "set -e; cd '" + d +
      "'; "
      "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 "
      "-subj '/CN=Switchyard Test CA' -addext 'basicConstraints=critical,CA:TRUE' "
      "-addext 'keyUsage=critical,keyCertSign' 2>/dev/null; "
      "openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr "
      "-subj '/CN=switchyard-test-server' 2>/dev/null; "
      "printf 'subjectAltName=" +
      names +
      "\\nbasicConstraints=CA:FALSE\\nextendedKeyUsage=serverAuth\\n' > ext.cnf; "
      "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
      "-out server.pem -days 2 -extfile ext.cnf 2>/dev/null";
  const RunResult r = run_program("/bin/sh", {"-c", script});
  if (r.exit_code != 0) throw std::runtime_error("openssl failed: " + r.err);
  return pki;
}

void set_mock_defaults(const Mock& mock, const json& directives) {
  HttpClient client(mock.port(), mock.tls());
  const Response r = client.post_json("/_mock/defaults", directives);
  if (r.status != 204) {
    throw std::runtime_error("mock " + mock.name() + " refused defaults " + directives.dump() +
                             ": " + std::to_string(r.status) + " " + r.body);
  }
}

void reset_mock(const Mock& mock) {
  HttpClient client(mock.port(), mock.tls());
  const Response r = client.request("POST", "/_mock/reset");
  if (r.status != 204) {
    throw std::runtime_error("mock " + mock.name() + " refused a reset: " + r.body);
  }
}

int chat_requests(Mock& mock) {
  return mock.stats()["requests"].value("POST /v1/chat/completions", 0);
}

int closed_port() {
  // Bind one, learn its number, let it go.
  TempDir dir;
  Mock m(dir, "ephemeral");
  const int port = m.port();
  m.process().signal(SIGKILL);
  m.process().wait_exit(5000ms);
  return port;
}

long resident_bytes(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6)) * 1024;  // in kB
  }
  throw std::runtime_error("no VmRSS for pid " + std::to_string(pid));
}

std::string hash_key(const std::string& key) {
  TempDir dir;
  write_file(dir / "key", key + "\n");
  const auto r = run_program(
      "/bin/sh", {"-c", std::string(SWITCHYARD_BIN) + " --hash-key < " + (dir / "key").string()});
  if (r.exit_code != 0) throw std::runtime_error("switchyard --hash-key failed: " + r.err);
  return r.out.substr(0, r.out.find('\n'));
}

}  // namespace switchyard::testing

namespace switchyard::testing {

namespace {
// Bind port 0, learn the number the kernel chose, let it go.
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot find a free port");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

// Anything answered to an inline PING ("+PONG", or "-NOAUTH" with a password) means it is up.
bool redis_answers(int port) {
  try {
    RawConnection c(port);
    c.send("PING\r\n");
    return !c.receive(500ms, "\r\n").empty();
  } catch (const std::exception&) {
    return false;
  }
}
}  // namespace

RedisServer::RedisServer(const TempDir& dir, Options options)
    : dir_(dir.path()), options_(std::move(options)), port_(free_port()) {
  launch();
}

std::string RedisServer::url(int db) const {
  return url_with("", db);
}

std::string RedisServer::url_with(const std::string& userinfo, int db) const {
  std::string u =
      "redis://" + (userinfo.empty() ? "" : userinfo + "@") + "127.0.0.1:" + std::to_string(port_);
  if (db != 0) u += "/" + std::to_string(db);
  return u;
}

void RedisServer::launch() {
  const std::string stem = "redis-" + std::to_string(port_) + "-" + std::to_string(++generation_);
  std::vector<std::string> args{"--port",       std::to_string(port_),
                                "--bind",       "127.0.0.1",
                                "--save",       "",
                                "--appendonly", "no",
                                "--dir",        dir_.string(),
                                "--daemonize",  "no"};
  if (!options_.password.empty()) {
    args.push_back("--requirepass");
    args.push_back(options_.password);
  }
  process_ = std::make_unique<Process>("/usr/bin/redis-server", args, dir_ / (stem + ".out"),
                                       dir_ / (stem + ".err"));
  const bool up = eventually([&] { return !process_->running() || redis_answers(port_); }, 10000ms);
  if (!up || !process_->running())
    throw std::runtime_error("redis-server did not start on port " + std::to_string(port_) +
                             "; stdout: " + process_->out() + " stderr: " + process_->err());
}

void RedisServer::kill() {
  process_->signal(SIGKILL);
  process_->wait_exit(5000ms);
}

void RedisServer::restart() {
  if (process_->running()) kill();
  launch();
}

}  // namespace switchyard::testing
