// async_read_answer: reads the answer to what was just written on a TCP socket, as
// Socket::async_read_some would, without the read Asio tries first.
//
// Asio (1.81) tries every read at once and waits for readiness only when that try fails with
// EAGAIN. Right after a request is written, its answer cannot be there yet: the try is a system
// call that always fails, once per request on every upstream connection. This read waits for
// the readiness edge instead. Anything that arrives after the write raises a new edge, so
// nothing is missed; what arrived before the write (a close while the connection sat idle) is
// the idle check's to find (upstream/connection.hpp).
//
// (A short read cannot be trusted to have emptied the socket instead, as nginx does: the peer's
// FIN may have come with the data, and without EPOLLRDHUP, which Asio does not register, only
// the next read would tell.)
//
// It is an operation on Asio's own epoll reactor (the one the socket is registered with), built
// like Asio's receive operation; the reactor's interface is not public API, hence the version
// check.
#pragma once

#include <sys/socket.h>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/detail/bind_handler.hpp>
#include <boost/asio/detail/fenced_block.hpp>
#include <boost/asio/detail/handler_alloc_helpers.hpp>
#include <boost/asio/detail/handler_cont_helpers.hpp>
#include <boost/asio/detail/handler_work.hpp>
#include <boost/asio/detail/reactor.hpp>
#include <boost/asio/detail/reactor_op.hpp>
#include <boost/version.hpp>
#include <cerrno>
#include <memory>

#include "switchyard/async.hpp"

#if BOOST_VERSION / 100 != 1081 || !defined(BOOST_ASIO_HAS_EPOLL) || \
    defined(BOOST_ASIO_HAS_IO_URING_AS_DEFAULT)
#error "read_answer.hpp is written against Boost 1.81's epoll reactor: check it against this one"
#endif

namespace switchyard {

namespace read_answer_detail {

namespace ad = asio::detail;

// The socket's reactor registration, which basic_socket keeps protected: a pointer to the member
// formed through a derived class reads it from any Socket.
struct SocketAccess : Socket {
  static auto& implementation(Socket& s) { return (s.*&SocketAccess::impl_).get_implementation(); }
};

// The operation being started on this thread: start_op tries a new operation at once, and that
// try is the one an answer read skips.
inline thread_local const ad::reactor_op* starting = nullptr;

template <class Handler>
class ReadOp : public ad::reactor_op {
 public:
  BOOST_ASIO_DEFINE_HANDLER_PTR(ReadOp);

  ReadOp(int fd, asio::mutable_buffer buffer, Handler& handler, const Executor& ex)
      : reactor_op(boost::system::error_code(), &ReadOp::do_perform, &ReadOp::do_complete),
        fd_(fd),
        buffer_(buffer),
        handler_(std::move(handler)),
        work_(handler_, ex) {}

  static status do_perform(reactor_op* base) {
    auto* o = static_cast<ReadOp*>(base);
    if (o == starting) return not_done;
    for (;;) {
      const ssize_t n = ::recv(o->fd_, o->buffer_.data(), o->buffer_.size(), 0);
      if (n > 0) {
        o->bytes_transferred_ = static_cast<std::size_t>(n);
        return done;
      }
      if (n == 0) {
        o->ec_ = asio::error::eof;
        return done_and_exhausted;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return not_done;
      o->ec_ = boost::system::error_code(errno, asio::error::get_system_category());
      return done;
    }
  }

  static void do_complete(void* owner, ad::operation* base, const boost::system::error_code&,
                          std::size_t) {
    auto* o = static_cast<ReadOp*>(base);
    ptr p = {std::addressof(o->handler_), o, o};
    ad::handler_work<Handler, Executor> w(std::move(o->work_));
    // The handler is moved out before the operation's memory is given back, as Asio does: the
    // handler may own that memory.
    ad::binder2<Handler, boost::system::error_code, std::size_t> handler(o->handler_, o->ec_,
                                                                         o->bytes_transferred_);
    p.h = std::addressof(handler.handler_);
    p.reset();
    if (owner) {
      ad::fenced_block b(ad::fenced_block::half);
      w.complete(handler, handler.handler_);
    }
  }

 private:
  int fd_;
  asio::mutable_buffer buffer_;
  Handler handler_;
  ad::handler_work<Handler, Executor> work_;
};

// Per-operation cancellation (a cancellation slot on the completion handler).
struct Cancel {
  // Spelled out: clang 14 (the fuzz build) has no parenthesised aggregate initialisation, which
  // the slot's emplace() needs.
  Cancel(ad::reactor* r, ad::reactor::per_descriptor_data* d, int f)
      : reactor(r), data(d), fd(f) {}

  ad::reactor* reactor;
  ad::reactor::per_descriptor_data* data;
  int fd;
  void operator()(asio::cancellation_type_t type) {
    using asio::cancellation_type;
    if (!!(type &
           (cancellation_type::terminal | cancellation_type::partial | cancellation_type::total)))
      reactor->cancel_ops_by_key(fd, *data, ad::reactor::read_op, this);
  }
};

}  // namespace read_answer_detail

template <class Token>
auto async_read_answer(Socket& socket, asio::mutable_buffer buffer, Token&& token) {
  return asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
      [&socket](auto handler, asio::mutable_buffer into) {
        namespace d = read_answer_detail;
        using Op = d::ReadOp<decltype(handler)>;
        auto& impl = d::SocketAccess::implementation(socket);
        auto& reactor = asio::use_service<d::ad::reactor>(socket.get_executor().context());
        const bool continuation = boost_asio_handler_cont_helpers::is_continuation(handler);
        auto slot = asio::get_associated_cancellation_slot(handler);
        typename Op::ptr p = {std::addressof(handler), Op::ptr::allocate(handler), nullptr};
        p.p = new (p.v) Op(impl.socket_, into, handler, socket.get_executor());
        if (slot.is_connected())
          p.p->cancellation_key_ =
              &slot.template emplace<d::Cancel>(&reactor, &impl.reactor_data_, impl.socket_);
        bool nonblocking = (impl.state_ & d::ad::socket_ops::non_blocking) != 0;
        if (!nonblocking)
          nonblocking = d::ad::socket_ops::set_internal_non_blocking(impl.socket_, impl.state_,
                                                                     true, p.p->ec_);
        if (nonblocking && into.size() > 0) {
          d::starting = p.p;
          reactor.start_op(d::ad::reactor::read_op, impl.socket_, impl.reactor_data_, p.p,
                           continuation, true);
          d::starting = nullptr;
        } else
          reactor.post_immediate_completion(p.p, continuation);
        p.v = p.p = nullptr;
      },
      token, buffer);
}

}  // namespace switchyard
