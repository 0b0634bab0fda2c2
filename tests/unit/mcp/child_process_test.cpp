// The stdio transport's child process, with real processes (sh, cat, sleep): lines both ways,
// EOF and exit status, environment and working directory, stderr to the log, and that no child
// is left behind by kill(), by the destructor, or by the thread that started it going away.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <sys/wait.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/this_coro.hpp>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <thread>

#include "switchyard/mcp/child_process.hpp"

namespace switchyard::mcp {
namespace {

using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;

ProcessSpec shell(std::string script) {
  return {.command = "sh", .args = {"-c", std::move(script)}};
}

// Why start() failed, or "started".
std::string start_error(ChildProcess& child, const ProcessSpec& spec) {
  auto started = child.start(spec);
  return started ? "started" : started.error();
}

// Runs `body` on a fresh io_context until it, and everything it started (the stderr readers),
// has finished.
void run(const std::function<Awaitable<void>(Executor)>& body) {
  asio::io_context io;
  bool done = false;
  asio::co_spawn(
      io,
      [&]() -> Awaitable<void> {
        co_await body(io.get_executor());
        done = true;
      },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  io.run_for(30s);  // a bound, so that a child left behind fails the test instead of hanging it
  EXPECT_TRUE(done);
  EXPECT_TRUE(io.stopped()) << "something still runs: a stderr reader whose pipe never closed?";
}

// Waits until `condition` holds, looking every few milliseconds; false if `limit` passed first.
Awaitable<bool> wait_until(std::function<bool()> condition, std::chrono::milliseconds limit = 5s) {
  Timer timer(co_await asio::this_coro::executor);
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) co_return false;
    timer.expires_after(5ms);
    co_await timer.async_wait(as_result);
  }
  co_return true;
}

// True when `pid` is no process any more, or one that has died and waits to be reaped (by init:
// a grandchild is not ours to reap).
bool dead(int pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!std::getline(stat, text)) return true;
  const auto paren = text.rfind(')');
  return paren + 2 < text.size() && (text[paren + 2] == 'Z' || text[paren + 2] == 'X');
}

// Everything logged while it exists, instead of the default logger's output.
class CapturedLog {
 public:
  CapturedLog() : previous_(spdlog::default_logger()), sink_(std::make_shared<Sink>()) {
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("test", sink_));
  }
  ~CapturedLog() { spdlog::set_default_logger(previous_); }

  const std::vector<std::string>& lines() const { return sink_->lines; }

 private:
  struct Sink : spdlog::sinks::base_sink<spdlog::details::null_mutex> {
    void sink_it_(const spdlog::details::log_msg& msg) override {
      const auto level = spdlog::level::to_string_view(msg.level);
      // The line is the log's JSON: its event and message are what the tests look at.
      const auto json =
          nlohmann::json::parse(std::string_view(msg.payload.data(), msg.payload.size()));
      lines.push_back(std::string(level.data(), level.size()) + " " + json.value("event", "") +
                      " " + json.value("message", ""));
    }
    void flush_() override {}
    std::vector<std::string> lines;
  };
  std::shared_ptr<spdlog::logger> previous_;
  std::shared_ptr<Sink> sink_;
};

TEST(ChildProcess, RoundTripsLinesThroughCat) {
  run([](Executor ex) -> Awaitable<void> {
    ChildProcess child(ex, "cat");
    EXPECT_TRUE(child.start({.command = "cat"}));
    EXPECT_TRUE(co_await child.write_line(R"({"jsonrpc":"2.0","id":1,"method":"ping"})"));
    EXPECT_TRUE(co_await child.write_line(""));
    EXPECT_TRUE(co_await child.write_line("third"));
    EXPECT_EQ(co_await child.read_line(), R"({"jsonrpc":"2.0","id":1,"method":"ping"})");
    EXPECT_EQ(co_await child.read_line(), "");
    EXPECT_EQ(co_await child.read_line(), "third");
  });
}

TEST(ChildProcess, HandsOutStdoutLineByLineInOrder) {
  run([](Executor ex) -> Awaitable<void> {
    ChildProcess child(ex, "printf");
    EXPECT_TRUE(child.start(shell(R"(printf 'one\ntwo\r\nthree\nlast')")));
    EXPECT_EQ(co_await child.read_line(), "one");
    EXPECT_EQ(co_await child.read_line(), "two");
    EXPECT_EQ(co_await child.read_line(), "three");
    EXPECT_EQ(co_await child.read_line(), "last");  // no newline before EOF
    EXPECT_EQ(co_await child.read_line(), std::nullopt);
  });
}

TEST(ChildProcess, JoinsALineSplitAcrossWrites) {
  run([](Executor ex) -> Awaitable<void> {
    ChildProcess child(ex, "split");
    // The child writes half a line, then waits for us before writing the rest.
    EXPECT_TRUE(child.start(shell(R"(printf 'hel'; read go; printf 'lo\nworld\n')")));
    const auto [line, written] = co_await (child.read_line() && child.write_line("go"));
    EXPECT_TRUE(written);
    EXPECT_EQ(line, "hello");
    EXPECT_EQ(co_await child.read_line(), "world");
  });
}

TEST(ChildProcess, HandsOutALineLongerThanThePipeWhole) {
  run([](Executor ex) -> Awaitable<void> {
    ChildProcess child(ex, "cat");
    EXPECT_TRUE(child.start({.command = "cat"}));
    std::string big(300 * 1024, 'x');
    big.back() = 'y';
    // Written and read at once: cat blocks on a full stdout until we read.
    const auto [written, line] = co_await (child.write_line(big) && child.read_line());
    EXPECT_TRUE(written);
    EXPECT_TRUE(line == big) << "got " << (line ? line->size() : 0) << " bytes";
  });
}

TEST(ChildProcess, KeepsLinesFromConcurrentWritersWhole) {
  run([](Executor ex) -> Awaitable<void> {
    ChildProcess child(ex, "cat");
    EXPECT_TRUE(child.start({.command = "cat"}));
    constexpr int kWriters = 4, kLinesEach = 5;
    constexpr std::size_t kLength = 100 * 1024;  // more than a pipe holds: several writes each
    for (int w = 0; w < kWriters; ++w) {
      asio::co_spawn(
          ex,
          [&child, w]() -> Awaitable<void> {
            for (int i = 0; i < kLinesEach; ++i)
              EXPECT_TRUE(co_await child.write_line(std::string(kLength, char('a' + w))));
          },
          asio::detached);
    }
    for (int i = 0; i < kWriters * kLinesEach; ++i) {
      const auto line = co_await child.read_line();
      EXPECT_TRUE(line && line->size() == kLength &&
                  line->find_first_not_of(line->front()) == std::string::npos)
          << "line " << i << " is not one writer's line";
    }
  });
}

TEST(ChildProcess, EndsTheStreamAndReportsTheExitCodeWhenTheChildExits) {
  run([](Executor ex) -> Awaitable<void> {
    ChildProcess child(ex, "exit");
    EXPECT_TRUE(child.start(shell("exit 3")));
    EXPECT_EQ(co_await child.read_line(), std::nullopt);
    EXPECT_FALSE(child.running());
    EXPECT_EQ(child.pid(), 0);
    EXPECT_EQ(child.exit_status(), "exited with 3");
  });
}

TEST(ChildProcess, WriteFailsOnceTheChildHasExited) {
  run([](Executor ex) -> Awaitable<void> {
    ChildProcess child(ex, "exit");
    EXPECT_TRUE(child.start(shell("exit 0")));
    EXPECT_EQ(co_await child.read_line(), std::nullopt);
    EXPECT_FALSE(co_await child.write_line("anyone there?"));  // EPIPE, and we are still alive
    EXPECT_FALSE(co_await child.write_line("still?"));
  });
}

TEST(ChildProcess, FailsToStartACommandThatIsNotThere) {
  run([](Executor ex) -> Awaitable<void> {
    ChildProcess child(ex, "missing");
    EXPECT_EQ(start_error(child, {.command = "switchyard-no-such-command"}),
              "cannot run switchyard-no-such-command: No such file or directory");
    // Given a path, it fails in the child, at exec, and the child tells us why.
    EXPECT_EQ(start_error(child, {.command = "/nonexistent/mcp-server"}),
              "cannot run /nonexistent/mcp-server: No such file or directory");
    EXPECT_EQ(start_error(child, {.command = "/"}), "cannot run /: Permission denied");
    EXPECT_FALSE(child.running());
    co_return;
  });
}

TEST(ChildProcess, FailsToStartInAWorkingDirectoryThatIsNotThere) {
  run([](Executor ex) -> Awaitable<void> {
    ChildProcess child(ex, "cwd");
    auto spec = shell("pwd");
    spec.cwd = "/nonexistent-switchyard-dir";
    EXPECT_EQ(start_error(child, spec),
              "cannot run sh: cannot enter /nonexistent-switchyard-dir: No such file or directory");
    co_return;
  });
}

TEST(ChildProcess, GivesTheChildTheGatewaysEnvironmentWithItsOwnOnTop) {
  ::setenv("SWITCHYARD_TEST_INHERITED", "from-gateway", 1);
  ::setenv("SWITCHYARD_TEST_REPLACED", "from-gateway", 1);
  run([](Executor ex) -> Awaitable<void> {
    ChildProcess child(ex, "env");
    auto spec = shell(R"(echo "$FOO/$SWITCHYARD_TEST_INHERITED/$SWITCHYARD_TEST_REPLACED")");
    spec.env = {{"FOO", "bar baz"}, {"SWITCHYARD_TEST_REPLACED", "from-config"}};
    EXPECT_TRUE(child.start(spec));
    EXPECT_EQ(co_await child.read_line(), "bar baz/from-gateway/from-config");
  });
  ::unsetenv("SWITCHYARD_TEST_INHERITED");
  ::unsetenv("SWITCHYARD_TEST_REPLACED");
}

TEST(ChildProcess, LooksTheCommandUpInThePathItGivesTheChild) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("switchyard-path-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "say-hello") << "#!/bin/sh\necho hello from $0\n";
  std::filesystem::permissions(dir / "say-hello", std::filesystem::perms::owner_all);
  run([&](Executor ex) -> Awaitable<void> {
    ChildProcess child(ex, "path");
    EXPECT_TRUE(child.start(
        {.command = "say-hello", .env = {{"PATH", "/nonexistent:" + dir.string() + ":/bin"}}}));
    EXPECT_EQ(co_await child.read_line(), "hello from " + (dir / "say-hello").string());
  });
  std::filesystem::remove_all(dir);
}

TEST(ChildProcess, RunsInTheWorkingDirectoryGiven) {
  const auto dir = std::filesystem::canonical(std::filesystem::temp_directory_path());
  run([&](Executor ex) -> Awaitable<void> {
    ChildProcess child(ex, "cwd");
    auto spec = shell("pwd -P");
    spec.cwd = dir.string();
    EXPECT_TRUE(child.start(spec));
    EXPECT_EQ(co_await child.read_line(), dir.string());
  });
}

TEST(ChildProcess, PassesTheChildOnlyItsThreeStreams) {
  // Without O_CLOEXEC, like Asio's sockets; high, clear of the descriptors start() uses.
  const int null = ::open("/dev/null", O_RDONLY);
  const int stray = ::fcntl(null, F_DUPFD, 50);
  ::close(null);
  ASSERT_GE(stray, 50);
  run([&](Executor ex) -> Awaitable<void> {
    ChildProcess child(ex, "fds");
    const std::string fd = std::to_string(stray);
    EXPECT_TRUE(child.start(shell("test -e /proc/$$/fd/" + fd + " && echo leaked || echo clean")));
    EXPECT_EQ(co_await child.read_line(), "clean");
  });
  ::close(stray);
}

TEST(ChildProcess, LogsEachStderrLineUnderTheServersName) {
  CapturedLog log;
  run([&](Executor ex) -> Awaitable<void> {
    ChildProcess child(ex, "everything");
    EXPECT_TRUE(child.start(shell(R"(echo 'starting up' >&2; printf 'warn\r\n' >&2; echo ok)")));
    EXPECT_EQ(co_await child.read_line(), "ok");
    EXPECT_EQ(co_await child.read_line(), std::nullopt);
    EXPECT_TRUE(co_await wait_until([&] { return log.lines().size() >= 2; }));
  });
  EXPECT_EQ(log.lines(), (std::vector<std::string>{
                             "warning mcp_server_stderr mcp server everything: starting up",
                             "warning mcp_server_stderr mcp server everything: warn"}));
}

TEST(ChildProcess, CutsAVeryLongStderrLine) {
  CapturedLog log;
  run([&](Executor ex) -> Awaitable<void> {
    ChildProcess child(ex, "noisy");
    EXPECT_TRUE(child.start(shell("head -c 100000 /dev/zero | tr '\\0' x >&2; echo >&2; echo ok")));
    EXPECT_EQ(co_await child.read_line(), "ok");
  });
  ASSERT_EQ(log.lines().size(), 1u);
  const auto& line = log.lines()[0];
  EXPECT_LT(line.size(), 5000u);
  EXPECT_TRUE(line.starts_with("warning mcp_server_stderr mcp server noisy: xxxx"))
      << line.substr(0, 60);
  EXPECT_TRUE(line.ends_with(" [95904 more bytes]")) << line.substr(line.size() - 40);
}

TEST(ChildProcess, EndsTheStreamAndKillsTheChildOnAnOverlongLine) {
  run([](Executor ex) -> Awaitable<void> {
    ChildProcess child(ex, "cat");
    child.set_max_line(1000);
    EXPECT_TRUE(child.start({.command = "cat"}));
    EXPECT_TRUE(co_await child.write_line(std::string(1000, 'a')));
    EXPECT_EQ(co_await child.read_line(), std::string(1000, 'a'));
    EXPECT_TRUE(co_await child.write_line(std::string(1001, 'b')));
    EXPECT_EQ(co_await child.read_line(), std::nullopt);
    EXPECT_TRUE(co_await wait_until([&] { return !child.running(); }));
    EXPECT_EQ(child.exit_status(), "killed by signal 15");
  });
}

TEST(ChildProcess, KillEndsAChildAtOnceWithSigterm) {
  run([](Executor ex) -> Awaitable<void> {
    ChildProcess child(ex, "sleep");
    EXPECT_TRUE(child.start({.command = "sleep", .args = {"100"}}));
    const auto start = std::chrono::steady_clock::now();
    child.kill();
    EXPECT_TRUE(co_await wait_until([&] { return !child.running(); }));
    EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
    EXPECT_EQ(child.exit_status(), "killed by signal 15");
    EXPECT_EQ(co_await child.read_line(), std::nullopt);
  });
}

TEST(ChildProcess, KillFollowsUpWithSigkillWhenTheChildIgnoresSigterm) {
  run([](Executor ex) -> Awaitable<void> {
    ChildProcess child(ex, "stubborn");
    EXPECT_TRUE(child.start(shell("trap '' TERM; echo ready; sleep 100")));
    EXPECT_EQ(co_await child.read_line(), "ready");  // the trap is set
    const auto start = std::chrono::steady_clock::now();
    child.kill();
    EXPECT_EQ(co_await child.read_line(), std::nullopt);  // sleep held stdout too: the group died
    EXPECT_TRUE(co_await wait_until([&] { return !child.running(); }));
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_GE(took, 1500ms);
    EXPECT_LT(took, 5s);
    EXPECT_EQ(child.exit_status(), "killed by signal 9");
  });
}

TEST(ChildProcess, RefusesASecondChildWhileOneRunsAndStartsOneAfterIt) {
  run([](Executor ex) -> Awaitable<void> {
    ChildProcess child(ex, "again");
    EXPECT_TRUE(child.start(shell("read line; echo first")));
    EXPECT_FALSE(child.start(shell("echo second")));
    EXPECT_TRUE(co_await child.write_line("go"));
    EXPECT_EQ(co_await child.read_line(), "first");
    EXPECT_EQ(co_await child.read_line(), std::nullopt);
    EXPECT_TRUE(child.start(shell("echo second")));
    EXPECT_EQ(co_await child.read_line(), "second");
  });
}

TEST(ChildProcess, LeavesNoProcessBehindWhenDestroyed) {
  run([](Executor ex) -> Awaitable<void> {
    int pid = 0, grandchild = 0;
    {
      ChildProcess child(ex, "doomed");
      EXPECT_TRUE(child.start(shell("sleep 100 & echo $!; wait")));
      pid = child.pid();
      const auto line = co_await child.read_line();
      EXPECT_TRUE(line);
      if (line) grandchild = std::atoi(line->c_str());
    }
    EXPECT_EQ(::kill(pid, 0), -1);  // reaped, not a zombie
    EXPECT_EQ(errno, ESRCH);
    EXPECT_GT(grandchild, 0);
    EXPECT_TRUE(co_await wait_until([&] { return dead(grandchild); }));
  });
}

TEST(ChildProcess, EndsWhatTheChildLeftRunningWhenItExits) {
  run([](Executor ex) -> Awaitable<void> {
    ChildProcess child(ex, "forker");
    EXPECT_TRUE(child.start(shell("sleep 100 >/dev/null 2>&1 & echo $!")));
    const auto line = co_await child.read_line();
    const int grandchild = line ? std::atoi(line->c_str()) : 0;
    EXPECT_GT(grandchild, 0);
    EXPECT_EQ(co_await child.read_line(), std::nullopt);
    EXPECT_EQ(child.exit_status(), "exited with 0");
    EXPECT_TRUE(co_await wait_until([&] { return dead(grandchild); }));
  });
}

// As when the gateway crashes: nobody calls kill() or the destructor, only the kernel ends the
// child. The thread that started it ends first; the object is only looked at after that.
TEST(ChildProcess, DiesWithTheThreadThatStartedIt) {
  run([](Executor ex) -> Awaitable<void> {
    std::optional<ChildProcess> child;
    std::thread([&] {
      child.emplace(ex, "orphan");
      EXPECT_TRUE(child->start({.command = "sleep", .args = {"100"}}));
    }).join();
    EXPECT_TRUE(co_await wait_until([&] { return !child->running(); }));
    EXPECT_EQ(child->exit_status(), "killed by signal 9");
  });
}

}  // namespace
}  // namespace switchyard::mcp
