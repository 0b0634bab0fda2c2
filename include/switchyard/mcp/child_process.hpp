// A child process spoken to over its standard streams, one message per line: how Switchyard runs
// an MCP server of transport `stdio`. It spawns the command with pipes for stdin, stdout and
// stderr, hands out stdout line by line, writes lines to stdin, sends every stderr line to the
// log under the server's name, and makes sure the child never outlives the gateway (it is killed
// when this object goes, and by the kernel when the gateway process dies). Restarting a crashed
// server with backoff is the owner's business, not this class's.
//
// The child runs in a session of its own: its process group is what gets signalled, so whatever
// it started goes with it (also when it exits by itself). It gets the gateway's environment plus
// `env`, no descriptors but the three pipes, and default signal handlers (SIGPIPE not ignored).
// The kernel kills it when the thread that called start() ends — the MCP hub's thread, which
// lives as long as the gateway. Everything happens on the executor's one thread; no member may be
// called from another.
//
// Example:
//   ChildProcess child(executor, "everything");
//   if (auto started = child.start(spec); !started) log(started.error());
//   co_await child.write_line(R"({"jsonrpc":"2.0","id":1,"method":"ping"})");
//   while (auto line = co_await child.read_line()) handle(*line);
//   // nullopt: stdout closed — the child exited or closed it
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "switchyard/async.hpp"
#include "switchyard/result.hpp"

namespace switchyard::mcp {

struct ProcessSpec {
  std::string command;  // a path, or a name looked up in the child's PATH
  std::vector<std::string> args;
  // Added to (or replacing in) the gateway's own environment.
  std::vector<std::pair<std::string, std::string>> env;
  std::string cwd;  // empty: the gateway's
};

class ChildProcess {
 public:
  // `name` is what stderr lines are logged under.
  ChildProcess(Executor executor, std::string name);
  // Kills the child if it still runs and reaps it, before returning: straight with SIGKILL, as a
  // destructor cannot wait out a grace period (call kill() first, and let it finish, for that).
  // A read or write still pending on this object must have finished before.
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Spawns the child. Fails with why, e.g. "cannot run mcp-server-x: No such file or directory",
  // when the command cannot be executed (a bare name is looked up in the PATH the child gets) or
  // the working directory entered. Only one child per object at a time: start again once the
  // last one has ended (running() is false). Ignores SIGPIPE in the gateway if nobody has
  // decided about it yet, so that a write to a child that is gone fails instead of killing us.
  Result<void, std::string> start(const ProcessSpec& spec);
  // The next line of stdout, without its newline (nor a "\r" before it); nullopt once stdout is
  // closed, after handing out a last line that had no newline. Stdout closes when the child
  // exits, and nullopt comes once it has been reaped too (or after a short wait for that, if it
  // only closed stdout), so exit_status() can say why. Lines longer than `max_line` bytes end
  // the stream too (the child is then killed): a message that size is a broken server. One
  // reader at a time.
  Awaitable<std::optional<std::string>> read_line();
  // Writes `line` and a newline; false when the child no longer reads (it exited). Writes may
  // be issued from several coroutines: they go out whole, one after another.
  Awaitable<bool> write_line(std::string_view line);
  // SIGTERM now, SIGKILL if it is still there after the grace period (2 s); reaps it. Returns at
  // once: the rest happens on the executor, and running() turns false when it is done.
  void kill();

  // True from start() until the child has been reaped (checked, without waiting, on each call).
  bool running() const;
  int pid() const;  // 0 when none: not started, or reaped
  // How the last child ended, for the log: "exited with 1", "killed by signal 9", "" if running.
  std::string exit_status() const;

  void set_max_line(std::size_t bytes) { max_line_ = bytes; }

 private:
  struct State;
  Executor executor_;
  std::string name_;
  std::size_t max_line_ = 16 * 1024 * 1024;
  std::unique_ptr<State> state_;
};

}  // namespace switchyard::mcp
