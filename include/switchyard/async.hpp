// The asynchronous vocabulary every area shares. One concrete executor type — a worker's
// io_context — instead of Asio's type-erased any_io_executor: every operation, handler and
// coroutine resumption copies its executor, and the erased one costs a call each time.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <chrono>

namespace switchyard {

namespace asio = boost::asio;
namespace beast = boost::beast;

using Executor = asio::io_context::executor_type;
template <class T = void>
using Awaitable = asio::awaitable<T, Executor>;
inline constexpr asio::use_awaitable_t<Executor> use_awaitable;
// For operations whose failure is an expected outcome: results as a tuple, no exception.
inline constexpr auto as_result = asio::as_tuple(use_awaitable);

using Socket = asio::basic_stream_socket<asio::ip::tcp, Executor>;
using Acceptor = asio::basic_socket_acceptor<asio::ip::tcp, Executor>;
using Resolver = asio::ip::basic_resolver<asio::ip::tcp, Executor>;
using Timer = asio::basic_waitable_timer<std::chrono::steady_clock,
                                         asio::wait_traits<std::chrono::steady_clock>, Executor>;
using TcpStream = beast::basic_stream<asio::ip::tcp, Executor>;

// Writes what a non-blocking socket takes right now, without waiting; the caller awaits the
// rest. A request or response usually fits the socket buffer whole, and then there is no
// asynchronous write at all: no timer armed and cancelled, no trip through the scheduler.
template <class ConstBuffers>
std::size_t write_now(Socket& socket, const ConstBuffers& buffers, boost::system::error_code& ec) {
  const std::size_t n = socket.write_some(buffers, ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again) ec = {};
  return n;
}

}  // namespace switchyard
