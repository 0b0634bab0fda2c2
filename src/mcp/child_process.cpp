#include "switchyard/mcp/child_process.hpp"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <csignal>
#include <system_error>

#include "switchyard/telemetry/request_log.hpp"

extern char** environ;

namespace switchyard::mcp {

namespace {

using namespace std::chrono_literals;
using Pipe = asio::posix::basic_stream_descriptor<Executor>;

constexpr auto kGracePeriod = 2s;
constexpr auto kLongestPoll = 50ms;
constexpr std::size_t kReadChunk = 64 * 1024;  // a pipe's capacity on Linux
// A stderr line is for a person to read; past this it is cut, so a server printing a megabyte
// without a newline costs no more than this.
constexpr std::size_t kLongestStderrLine = 4096;

// A descriptor that closes when it goes out of scope, unless released.
struct Fd {
  Fd() = default;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  void reset() {
    if (fd >= 0) ::close(std::exchange(fd, -1));
  }
  int release() { return std::exchange(fd, -1); }
  int fd = -1;
};

// Both ends close on exec, so no other child inherits them. Neither end is 0, 1 or 2 (possible
// when the gateway runs with one of those closed): the child's dup2()s onto 0, 1 and 2 would
// overwrite an end it still has to dup.
bool make_pipe(Fd& read_end, Fd& write_end) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) < 0) return false;
  read_end.fd = fds[0];
  write_end.fd = fds[1];
  for (Fd* end : {&read_end, &write_end}) {
    if (end->fd > 2) continue;
    const int low = end->release();
    end->fd = ::fcntl(low, F_DUPFD_CLOEXEC, 3);
    ::close(low);
  }
  return read_end.fd >= 0 && write_end.fd >= 0;
}

// waitpid(), again when a signal interrupts it.
pid_t wait_for(pid_t pid, int* status, int options) {
  pid_t r;
  while ((r = ::waitpid(pid, status, options)) < 0 && errno == EINTR) {
  }
  return r;
}

// The child's environment: the gateway's, with the spec's added or replacing.
std::vector<std::string> child_environment(const ProcessSpec& spec) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) env.emplace_back(*e);
  for (const auto& [name, value] : spec.env) {
    const std::string prefix = name + "=";
    std::erase_if(env, [&](const std::string& e) { return e.starts_with(prefix); });
    env.push_back(prefix + value);
  }
  return env;
}

// What exec takes: the strings' addresses, then a null pointer.
std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// What the child reports through the error pipe when it cannot get to exec.
struct LaunchFailure {
  enum Step { setup, enter_cwd, exec } step;
  int error;
};

[[noreturn]] void fail_launch(int report_fd, LaunchFailure::Step step) {
  const LaunchFailure failure{step, errno};
  [[maybe_unused]] auto ignored = ::write(report_fd, &failure, sizeof failure);
  ::_exit(127);
}

// Between fork() and exec: the gateway has other threads whose locks may be held, so only
// async-signal-safe calls, on data prepared before fork().
struct Launch {
  const char* command;
  char* const* argv;
  char** envp;
  const char* cwd;  // nullptr: the gateway's
  int stdin_read, stdout_write, stderr_write, report;
  pid_t parent;
  rlim_t max_fd;

  [[noreturn]] void run() const {
    int report_fd = report;
    const auto fail = [&](LaunchFailure::Step step) { fail_launch(report_fd, step); };
    // Handlers the gateway installed (Asio's signal_set) would run here, in the gateway's code,
    // until exec; and an ignored SIGPIPE would survive exec. Signals stay blocked until then.
    struct sigaction fresh {};
    fresh.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) {
      struct sigaction old {};
      if (::sigaction(sig, nullptr, &old) == 0 && (old.sa_handler != SIG_IGN || sig == SIGPIPE))
        ::sigaction(sig, &fresh, nullptr);
    }
    if (::setsid() < 0) fail(LaunchFailure::setup);
    // The kernel kills us when the parent goes; if it went before this line, nobody will.
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) fail(LaunchFailure::setup);
    if (::getppid() != parent) ::_exit(127);
    // All our pipe ends are above 2 (make_pipe), so none is overwritten before it is dup'ed.
    if (::dup2(stdin_read, 0) < 0 || ::dup2(stdout_write, 1) < 0 || ::dup2(stderr_write, 2) < 0)
      fail(LaunchFailure::setup);
    if (report_fd != 3) {
      if (::dup3(report_fd, 3, O_CLOEXEC) < 0) fail(LaunchFailure::setup);
      report_fd = 3;
    }
    // Asio opens sockets without O_CLOEXEC: a client connection held open by an MCP server would
    // not close when the gateway closes it. Fd 3, the report, closes on exec.
    if (::close_range(4, ~0U, 0) < 0)
      for (rlim_t fd = 4; fd < max_fd; ++fd) ::close(static_cast<int>(fd));
    if (cwd && ::chdir(cwd) < 0) fail(LaunchFailure::enter_cwd);
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    // execvp() looks the command up in `environ`'s PATH: the child's, so that a server configured
    // with a PATH of its own is found where that says.
    environ = envp;
    ::execvp(command, argv);
    fail_launch(report_fd, LaunchFailure::exec);
  }
};

std::string reason(const ProcessSpec& spec, LaunchFailure failure) {
  std::string text = "cannot run " + spec.command + ": ";
  if (failure.step == LaunchFailure::setup) text += "cannot set up the child: ";
  if (failure.step == LaunchFailure::enter_cwd) text += "cannot enter " + spec.cwd + ": ";
  return text + std::generic_category().message(failure.error);
}

// Owns the pipe in its frame: the lines a crashing server prints last are the ones wanted, so
// this drains to EOF even after the ChildProcess is gone.
Awaitable<void> log_stderr(Pipe pipe, std::string name) {
  std::string line;
  std::size_t cut = 0;
  const auto emit = [&] {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::string message = "mcp server " + name + ": " + line;
    if (cut > 0) message += " [" + std::to_string(cut) + " more bytes]";
    telemetry::log_event(telemetry::Level::warn, "mcp_server_stderr", message);
    line.clear();
    cut = 0;
  };
  std::array<char, 4096> chunk;
  for (;;) {
    auto [ec, n] = co_await pipe.async_read_some(asio::buffer(chunk), as_result);
    std::string_view data(chunk.data(), n);
    while (!data.empty()) {
      const auto nl = data.find('\n');
      const auto part = data.substr(0, nl);
      const auto keep = std::min(part.size(), kLongestStderrLine - line.size());
      line.append(part.substr(0, keep));
      cut += part.size() - keep;
      if (nl == std::string_view::npos) break;
      emit();
      data.remove_prefix(nl + 1);
    }
    if (ec) break;
  }
  if (!line.empty() || cut > 0) emit();
}

// The child as the kernel knows it. Shared with the coroutine kill() starts, which may still be
// between two polls when the ChildProcess goes.
struct Child {
  explicit Child(pid_t child) : pid(child) {}

  // The whole group, for what the child started; the child alone if it left its group.
  void signal(int sig) const {
    if (::kill(-pid, sig) < 0) ::kill(pid, sig);
  }

  bool reap() {
    if (reaped) return true;
    int status = 0;
    const pid_t r = wait_for(pid, &status, WNOHANG);
    if (r == 0) return false;
    reaped = true;
    // ECHILD: someone else reaped it (SIGCHLD ignored); how it ended is lost.
    wait_status = r == pid ? std::optional<int>(status) : std::nullopt;
    // What it left running in its group goes with it, or it would hold our pipes open and
    // outlive the gateway. The group's id is still its own: reaped a moment ago, nothing can
    // have reused it.
    if (r == pid) ::kill(-pid, SIGKILL);
    return true;
  }

  const pid_t pid;
  bool reaped = false;
  std::optional<int> wait_status;
};

// Polls for the exit, quickly at first: most servers stop at once on SIGTERM. There is no
// SIGCHLD handler to wait on: it would be the whole process's, and catch other code's children.
Awaitable<void> terminate(std::shared_ptr<Child> child) {
  Timer timer(co_await asio::this_coro::executor);
  child->signal(SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + kGracePeriod;
  bool sigkill_sent = false;
  for (auto interval = 1ms; !child->reap(); interval = std::min(interval * 2, kLongestPoll)) {
    if (!sigkill_sent && std::chrono::steady_clock::now() >= deadline) {
      child->signal(SIGKILL);
      sigkill_sent = true;
    }
    timer.expires_after(interval);
    co_await timer.async_wait(as_result);
  }
}

}  // namespace

struct ChildProcess::State {
  State(Executor ex, pid_t pid, Pipe stdin_pipe, Pipe stdout_pipe)
      : child(std::make_shared<Child>(pid)),
        in(std::move(stdin_pipe)),
        out(std::move(stdout_pipe)),
        turn(std::move(ex)) {
    turn.expires_at(Timer::time_point::max());
  }
  ~State() {
    if (child->reaped) return;
    child->signal(SIGKILL);
    wait_for(child->pid, nullptr, 0);
    child->reaped = true;  // and terminate(), if running, stops at its next poll
  }

  std::shared_ptr<Child> child;
  bool terminating = false;
  Pipe in;
  Pipe out;
  // stdout between reads: [begin, filled) is unread; no newline in [begin, scanned).
  std::string buffer;
  std::size_t begin = 0, scanned = 0, filled = 0;
  bool out_closed = false;
  // Writers take turns: a line bigger than the pipe takes several writes, and no other line may
  // land between them. The timer never expires; cancelling it wakes the waiting writers.
  bool writing = false;
  bool in_broken = false;
  Timer turn;
};

ChildProcess::ChildProcess(Executor executor, std::string name)
    : executor_(std::move(executor)), name_(std::move(name)) {}

ChildProcess::~ChildProcess() = default;

Result<void, std::string> ChildProcess::start(const ProcessSpec& spec) {
  if (running()) return Unexpected("cannot run " + spec.command + ": a child is already running");
  // main() ignores SIGPIPE; any other host must not die of a write to a child that is gone.
  struct sigaction current {};
  if (::sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL)
    std::signal(SIGPIPE, SIG_IGN);

  auto env = child_environment(spec);
  std::vector<std::string> args{spec.command};
  args.insert(args.end(), spec.args.begin(), spec.args.end());
  const auto argv = pointers(args);
  auto envp = pointers(env);
  Fd stdin_read, stdin_write, stdout_read, stdout_write, stderr_read, stderr_write, report_read,
      report_write;
  if (!make_pipe(stdin_read, stdin_write) || !make_pipe(stdout_read, stdout_write) ||
      !make_pipe(stderr_read, stderr_write) || !make_pipe(report_read, report_write))
    return Unexpected(reason(spec, {LaunchFailure::setup, errno}));
  rlimit files{};
  ::getrlimit(RLIMIT_NOFILE, &files);
  const Launch launch{.command = spec.command.c_str(),
                      .argv = argv.data(),
                      .envp = envp.data(),
                      .cwd = spec.cwd.empty() ? nullptr : spec.cwd.c_str(),
                      .stdin_read = stdin_read.fd,
                      .stdout_write = stdout_write.fd,
                      .stderr_write = stderr_write.fd,
                      .report = report_write.fd,
                      .parent = ::getpid(),
                      .max_fd = files.rlim_cur};

  // Blocked across fork() so that no gateway handler runs in the child; it unblocks before exec.
  sigset_t all, previous;
  ::sigfillset(&all);
  ::pthread_sigmask(SIG_BLOCK, &all, &previous);
  const pid_t pid = ::fork();
  if (pid == 0) launch.run();
  const int fork_error = errno;
  ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  if (pid < 0) return Unexpected(reason(spec, {LaunchFailure::setup, fork_error}));

  // The child's ends must go from here, or the child would never see EOF on stdin and we never
  // on stdout. The report pipe then reads EOF when exec closes it, or why exec did not happen.
  stdin_read.reset();
  stdout_write.reset();
  stderr_write.reset();
  report_write.reset();
  LaunchFailure failure{};
  ssize_t n;
  while ((n = ::read(report_read.fd, &failure, sizeof failure)) < 0 && errno == EINTR) {
  }
  if (n == sizeof failure) {
    wait_for(pid, nullptr, 0);
    return Unexpected(reason(spec, failure));
  }

  Pipe in(executor_, stdin_write.release()), out(executor_, stdout_read.release()),
      err(executor_, stderr_read.release());
  boost::system::error_code ignored;
  for (Pipe* p : {&in, &out, &err}) p->non_blocking(true, ignored);
  state_ = std::make_unique<State>(executor_, pid, std::move(in), std::move(out));
  asio::co_spawn(executor_, log_stderr(std::move(err), name_), asio::detached);
  return {};
}

Awaitable<std::optional<std::string>> ChildProcess::read_line() {
  if (!state_) co_return std::nullopt;
  State& s = *state_;
  for (;;) {
    const auto nl = std::string_view(s.buffer.data(), s.filled).find('\n', s.scanned);
    const std::size_t end = nl == std::string_view::npos ? s.filled : nl;
    if (end - s.begin > max_line_) {
      s.out_closed = true;
      s.begin = s.scanned = s.filled = 0;
      boost::system::error_code ignored;
      s.out.close(ignored);
      kill();
      co_return std::nullopt;
    }
    if (nl != std::string_view::npos || (s.out_closed && s.begin < s.filled)) {
      std::string line(s.buffer, s.begin, end - s.begin);
      s.begin = s.scanned = std::min(end + 1, s.filled);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      co_return line;
    }
    if (s.out_closed) break;
    // Unread bytes to the front, once per read rather than once per line; a buffer grown for one
    // huge message is given back once it has been handed out.
    std::copy(s.buffer.begin() + s.begin, s.buffer.begin() + s.filled, s.buffer.begin());
    s.filled -= s.begin;
    s.scanned = s.filled;
    s.begin = 0;
    if (s.filled == 0 && s.buffer.size() > 4 * kReadChunk) s.buffer = std::string();
    if (s.buffer.size() < s.filled + kReadChunk) s.buffer.resize(s.filled + kReadChunk);
    auto [ec, n] = co_await s.out.async_read_some(
        asio::buffer(s.buffer.data() + s.filled, s.buffer.size() - s.filled), as_result);
    s.filled += n;
    if (ec) s.out_closed = true;
  }
  // Stdout closes as the child exits, a moment before it can be reaped: wait for that moment,
  // so that exit_status() says why the stream ended. A child that only closed stdout costs
  // this wait once.
  Timer timer(executor_);
  for (auto wait = 1ms; !s.child->reap() && wait <= 64ms; wait *= 2) {
    timer.expires_after(wait);
    co_await timer.async_wait(as_result);
  }
  co_return std::nullopt;
}

Awaitable<bool> ChildProcess::write_line(std::string_view line) {
  if (!state_) co_return false;
  State& s = *state_;
  while (s.writing && !s.in_broken) co_await s.turn.async_wait(as_result);
  if (s.in_broken) co_return false;
  s.writing = true;
  const std::array<asio::const_buffer, 2> buffers{asio::buffer(line), asio::buffer("\n", 1)};
  auto [ec, n] = co_await asio::async_write(s.in, buffers, as_result);
  s.writing = false;
  s.in_broken = static_cast<bool>(ec);
  s.turn.cancel();
  co_return !ec;
}

void ChildProcess::kill() {
  if (!running() || state_->terminating) return;
  state_->terminating = true;
  asio::co_spawn(executor_, terminate(state_->child), asio::detached);
}

bool ChildProcess::running() const {
  return state_ && !state_->child->reap();
}

int ChildProcess::pid() const {
  return running() ? state_->child->pid : 0;
}

std::string ChildProcess::exit_status() const {
  if (!state_ || !state_->child->reap()) return "";
  if (!state_->child->wait_status) return "ended, how is unknown";
  const int status = *state_->child->wait_status;
  if (WIFEXITED(status)) return "exited with " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "ended";
}

}  // namespace switchyard::mcp
