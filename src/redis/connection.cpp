#include "connection.hpp"

#include <hiredis/async.h>

#include <boost/asio/post.hpp>

#include "switchyard/redis/reply_limits.hpp"

namespace switchyard::redis {

switchyard::Result<std::shared_ptr<Connection>> Connection::open(const Executor& ex,
                                                                 const std::string& address,
                                                                 std::uint16_t port,
                                                                 std::function<void()> on_closed) {
  // With a numeric address, getaddrinfo inside redisAsyncConnect does no lookup, and the
  // connect(2) is non-blocking: this returns at once.
  redisAsyncContext* ac = redisAsyncConnect(address.c_str(), port);
  if (!ac) return Unexpected("out of memory");
  if (ac->err) {
    std::string why = ac->errstr;
    redisAsyncFree(ac);
    return Unexpected(std::move(why));
  }
  bound_replies(ac->c.reader);
  std::shared_ptr<Connection> c(new Connection(ex));
  boost::system::error_code ec;
  c->socket_.assign(ac->c.fd, ec);
  if (ec) {
    redisAsyncFree(ac);
    return Unexpected("cannot watch the socket: " + ec.message());
  }
  c->ac_ = ac;
  c->on_closed_ = std::move(on_closed);
  ac->data = c.get();
  ac->ev.data = c.get();
  ac->ev.addRead = &Connection::add_read;
  ac->ev.delRead = &Connection::del_read;
  ac->ev.addWrite = &Connection::add_write;
  ac->ev.delWrite = &Connection::del_write;
  ac->ev.cleanup = &Connection::cleanup;
  // A peer that vanished without a FIN (a host gone, a dropped route) is noticed eventually even
  // on an idle connection.
  redisEnableKeepAlive(&ac->c);
  // Also asks for writability, which is how a finished connect(2) shows.
  redisAsyncSetConnectCallback(ac, &Connection::on_connect);
  return c;
}

Connection::~Connection() {
  // Only reached with no wait in flight (each holds a reference), so never inside hiredis. The
  // owner is gone or going: it hears nothing more.
  on_closed_ = nullptr;
  if (ac_) redisAsyncFree(ac_);
}

void Connection::close() {
  if (!ac_) return;
  if (in_hiredis_ > 0) {
    // hiredis defers a free itself from inside a reply callback, but not from the connect
    // callback or from code its callbacks wake; deferring here covers every case alike.
    if (!close_posted_) {
      close_posted_ = true;
      asio::post(socket_.get_executor(), [self = shared_from_this()] {
        self->close_posted_ = false;
        self->close();
      });
    }
    return;
  }
  redisAsyncFree(ac_);  // runs the pending callbacks, then cleanup(), which clears ac_
}

void Connection::add_read(void* self) {
  static_cast<Connection*>(self)->want(WaitType::wait_read, true);
}
void Connection::del_read(void* self) {
  static_cast<Connection*>(self)->want(WaitType::wait_read, false);
}
void Connection::add_write(void* self) {
  static_cast<Connection*>(self)->want(WaitType::wait_write, true);
}
void Connection::del_write(void* self) {
  static_cast<Connection*>(self)->want(WaitType::wait_write, false);
}
void Connection::cleanup(void* self) {
  static_cast<Connection*>(self)->on_cleanup();
}

void Connection::on_connect(const redisAsyncContext* ac, int status) {
  // A failed connect needs nothing here: hiredis frees the context right after (cleanup()).
  if (status == REDIS_OK) static_cast<Connection*>(ac->data)->tcp_connected_ = true;
}

void Connection::want(WaitType type, bool on) {
  wants(type) = on;
  if (on) wait(type);
}

void Connection::wait(WaitType type) {
  bool& waiting = type == WaitType::wait_read ? read_waiting_ : write_waiting_;
  if (waiting || !ac_) return;
  waiting = true;
  socket_.async_wait(type, [self = shared_from_this(), type](const boost::system::error_code& ec) {
    self->on_ready(type, ec);
  });
}

void Connection::on_ready(WaitType type, const boost::system::error_code& ec) {
  (type == WaitType::wait_read ? read_waiting_ : write_waiting_) = false;
  // Aborted: the descriptor was released because hiredis freed the context.
  if (ec == asio::error::operation_aborted || !ac_ || !wants(type)) return;
  // Any other error is hiredis's to find: its read or write fails and it closes the connection.
  ++in_hiredis_;
  if (type == WaitType::wait_read) {
    redisAsyncHandleRead(ac_);
  } else {
    redisAsyncHandleWrite(ac_);
  }
  --in_hiredis_;
  // hiredis keeps wanting until it says otherwise (or has freed the context meanwhile).
  if (ac_ && wants(type)) wait(type);
}

void Connection::on_cleanup() {
  // Called by hiredis while freeing the context, before it closes the file descriptor.
  if (ac_->err) error_ = ac_->errstr;
  want_read_ = want_write_ = false;
  if (socket_.is_open()) socket_.release();  // cancels the waits in flight; hiredis closes the fd
  ac_ = nullptr;
  if (on_closed_) on_closed_();
}

}  // namespace switchyard::redis
