// One hiredis asynchronous context with its socket watched by an io_context: what hiredis's
// adapters (hiredis/adapters/libevent.h, libuv.h, …) do for other event loops. hiredis says
// through its ev hooks when it wants to read or write; each want becomes an async_wait on a
// stream descriptor that does not own the file descriptor (hiredis closes it, so the descriptor
// is released first), and readiness is handed back with redisAsyncHandleRead/Write.
#pragma once

#include <boost/asio/posix/stream_descriptor.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "switchyard/async.hpp"
#include "switchyard/result.hpp"

struct redisAsyncContext;

namespace switchyard::redis {

// Shared: every pending async_wait holds the Connection, so a wait that completes after hiredis
// freed the context (or after the owner let go) finds the object still there and does nothing.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  // Starts a non-blocking connect to a numeric address (no name lookup: that would block).
  // Why not, when it fails at once. `on_closed` runs whenever hiredis frees the
  // context — an error, the server closing, a failed connect, close() — from inside hiredis: it
  // may take note and wake someone up, and nothing more.
  static switchyard::Result<std::shared_ptr<Connection>> open(const Executor& ex,
                                                              const std::string& address,
                                                              std::uint16_t port,
                                                              std::function<void()> on_closed);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // The hiredis context, for issuing commands; null once it is freed.
  redisAsyncContext* context() const { return ac_; }
  bool closed() const { return ac_ == nullptr; }
  // connect(2) completed (the server may still not answer: a stopped process's kernel accepts).
  bool tcp_connected() const { return tcp_connected_; }
  // Why hiredis closed the connection ("Connection refused", "Server closed the connection"),
  // empty when the owner closed it.
  const std::string& error() const { return error_; }

  // Frees the context: every pending callback runs with a NULL reply, now — or, when called
  // from inside one of this connection's own callbacks, right after hiredis returns (freeing the
  // context under a running hiredis call would pull it from under hiredis).
  void close();

 private:
  using WaitType = asio::posix::descriptor_base::wait_type;

  explicit Connection(const Executor& ex) : socket_(ex) {}

  static void add_read(void* self);
  static void del_read(void* self);
  static void add_write(void* self);
  static void del_write(void* self);
  static void cleanup(void* self);
  static void on_connect(const redisAsyncContext* ac, int status);

  bool& wants(WaitType type) { return type == WaitType::wait_read ? want_read_ : want_write_; }
  void want(WaitType type, bool on);
  void wait(WaitType type);
  void on_ready(WaitType type, const boost::system::error_code& ec);
  void on_cleanup();

  redisAsyncContext* ac_ = nullptr;
  asio::posix::basic_stream_descriptor<Executor> socket_;
  std::function<void()> on_closed_;
  std::string error_;
  bool tcp_connected_ = false;
  bool want_read_ = false, want_write_ = false;        // what hiredis asked for
  bool read_waiting_ = false, write_waiting_ = false;  // an async_wait is in flight
  bool close_posted_ = false;
  int in_hiredis_ = 0;  // > 0 while redisAsyncHandleRead/Write runs
};

}  // namespace switchyard::redis
