// switchyard-stream-load: a load client for benchmarking how a gateway relays many concurrent
// Server-Sent-Events streams. It opens N HTTP/1.1 connections to a loopback target (ramped, so
// the listen backlog never overflows), sends one streaming POST on each and records when every
// event arrives: the time to a stream's first event and the gap between its consecutive events.
// Progress goes to stdout ("open N", then one "RESULT key=value ..." line) for a bench script.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
constexpr auto kRethrow = [](std::exception_ptr error) {
  if (error) std::rethrow_exception(error);
};
constexpr std::size_t kBodyBufferSize = 4096;
// Only the response head has to fit: the body is drained into the fixed body buffer, and the
// flat buffer grows from 512 bytes only as far as a large head needs.
constexpr std::size_t kReadBufferLimit = 8192;
constexpr std::string_view kDefaultBody =
    R"({"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Hello"}]})";
constexpr std::string_view kUsage =
    R"(usage: switchyard-stream-load --target 127.0.0.1:PORT --streams N [options]
  --path PATH            request path (default: /v1/chat/completions)
  --body FILE            JSON request body (default: a one-message streaming chat request)
  --header 'name: value' extra request header; may repeat
  --connect-per-ms K     open at most K new connections per millisecond (default: 20)
  --timeout-s S          abandon the whole run after S seconds (default: 600)
Only loopback targets (127.x.x.x, ::1, localhost) are accepted.
)";

struct Options {
  std::string target;
  tcp::endpoint endpoint;
  std::string path = "/v1/chat/completions";
  std::string body{kDefaultBody};
  std::vector<std::pair<std::string, std::string>> headers;
  std::size_t streams = 0;
  std::size_t connect_per_ms = 20;
  unsigned timeout_s = 600;
};

template <typename Number>
bool parse_positive(std::string_view text, Number& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size() && out > 0;
}

// Refusing anything off-host keeps the tool from being pointed at someone else's service.
std::optional<tcp::endpoint> loopback_endpoint(std::string_view target) {
  const auto colon = target.rfind(':');
  unsigned short port = 0;
  if (colon == std::string_view::npos || !parse_positive(target.substr(colon + 1), port)) {
    return std::nullopt;
  }
  auto host = target.substr(0, colon);
  if (host.starts_with('[') && host.ends_with(']')) host = host.substr(1, host.size() - 2);
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(std::string(host), ec);
  if (ec || !address.is_loopback()) return std::nullopt;
  return tcp::endpoint(address, port);
}

std::optional<Options> parse_options(int argc, char** argv) {
  const auto reject = [](std::string_view why) {
    std::cerr << "switchyard-stream-load: " << why << "\n" << kUsage;
    return std::optional<Options>{};
  };
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (i + 1 >= argc) return reject("missing value for " + std::string(flag));
    const std::string_view value = argv[++i];
    if (flag == "--target") {
      const auto endpoint = loopback_endpoint(value);
      if (!endpoint) return reject("--target must be a loopback HOST:PORT");
      options.target = value;
      options.endpoint = *endpoint;
    } else if (flag == "--streams") {
      if (!parse_positive(value, options.streams)) return reject("bad --streams");
    } else if (flag == "--path") {
      if (!value.starts_with('/')) return reject("--path must start with /");
      options.path = value;
    } else if (flag == "--body") {
      std::ifstream file{std::string(value), std::ios::binary};
      std::ostringstream text;
      text << file.rdbuf();
      if (!file) return reject("cannot read --body " + std::string(value));
      options.body = std::move(text).str();
    } else if (flag == "--header") {
      const auto colon = value.find(':');
      if (colon == 0 || colon == std::string_view::npos)
        return reject("--header wants 'name: value'");
      auto header_value = value.substr(colon + 1);
      while (header_value.starts_with(' ')) header_value.remove_prefix(1);
      options.headers.emplace_back(value.substr(0, colon), header_value);
    } else if (flag == "--connect-per-ms") {
      if (!parse_positive(value, options.connect_per_ms)) return reject("bad --connect-per-ms");
    } else if (flag == "--timeout-s") {
      if (!parse_positive(value, options.timeout_s)) return reject("bad --timeout-s");
    } else {
      return reject("unknown option " + std::string(flag));
    }
  }
  if (options.target.empty() || options.streams == 0) return reject("missing --target/--streams");
  return options;
}

// Ten thousand streams need ten thousand descriptors; the default soft limit is often 1024.
void raise_fd_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == limit.rlim_max) return;
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
}

// Counts SSE events without keeping any of the stream: an event ends at a blank line, and both
// may straddle reads, so only "are we at a line start" and "has this event any bytes" persist.
class EventCounter {
 public:
  std::size_t feed(std::string_view bytes) {
    std::size_t completed = 0;
    for (const char byte : bytes) {
      if (byte == '\r') continue;  // CRLF and LF line ends count alike
      if (byte != '\n') {
        in_event_ = true;
      } else if (at_line_start_ && in_event_) {
        in_event_ = false;
        ++completed;
      }
      at_line_start_ = byte == '\n';
    }
    return completed;
  }

 private:
  bool at_line_start_ = true;
  bool in_event_ = false;
};

// Doubles as an index into LoadRun::errors_.
enum class Failure { connect, status, closed, timeout };

float to_ms(Clock::duration elapsed) {
  return std::chrono::duration<float, std::milli>(elapsed).count();
}

// Nearest-rank percentile (1.0 gives the maximum); reorders `values`, only the report reads them.
float percentile(std::vector<float>& values, double fraction) {
  if (values.empty()) return 0;
  const auto rank = std::ceil(fraction * static_cast<double>(values.size()));
  const auto nth =
      values.begin() + std::max<std::ptrdiff_t>(static_cast<std::ptrdiff_t>(rank), 1) - 1;
  std::nth_element(values.begin(), nth, values.end());
  return *nth;
}

class LoadRun {
 public:
  LoadRun(asio::io_context& io, Options options)
      : io_(io),
        options_(std::move(options)),
        request_(http::verb::post, options_.path, 11),
        sockets_(options_.streams, nullptr) {
    request_.set(http::field::host, options_.target);
    request_.set(http::field::content_type, "application/json");
    request_.set(http::field::accept, "text/event-stream");
    for (const auto& [name, value] : options_.headers) request_.insert(name, value);
    request_.body() = options_.body;
    request_.prepare_payload();
  }

  void start() {
    asio::co_spawn(io_, watch_deadline(), kRethrow);
    asio::co_spawn(io_, ramp(), kRethrow);
  }

  int report() {
    const double seconds = std::chrono::duration<double>(last_end_ - first_connect_).count();
    const std::size_t errors = options_.streams - ok_;
    std::printf(
        "RESULT streams=%zu ok=%zu errors=%zu errors_connect=%zu errors_status=%zu "
        "errors_closed=%zu errors_timeout=%zu events=%zu bytes=%zu first_event_p50_ms=%.3f "
        "first_event_p99_ms=%.3f gap_p50_ms=%.3f gap_p99_ms=%.3f gap_p999_ms=%.3f "
        "gap_max_ms=%.3f seconds=%.3f first_bad_status=%d\n",
        options_.streams, ok_, errors, errors_[0], errors_[1], errors_[2], errors_[3], events_,
        bytes_, percentile(first_event_ms_, 0.5), percentile(first_event_ms_, 0.99),
        percentile(gap_ms_, 0.5), percentile(gap_ms_, 0.99), percentile(gap_ms_, 0.999),
        percentile(gap_ms_, 1.0), seconds, first_bad_status_);
    std::fflush(stdout);
    return errors == 0 ? 0 : 1;
  }

 private:
  asio::awaitable<void> ramp() {
    first_connect_ = Clock::now();
    auto tick = first_connect_;
    std::size_t launched = 0;
    while (launched < options_.streams && !timed_out_) {
      const std::size_t batch_end = std::min(options_.streams, launched + options_.connect_per_ms);
      for (; launched < batch_end; ++launched) asio::co_spawn(io_, run_stream(launched), kRethrow);
      if (launched == options_.streams) break;
      // A late tick restarts the schedule rather than bursting to catch up.
      tick = std::max(tick + std::chrono::milliseconds(1), Clock::now());
      ramp_timer_.expires_at(tick);
      co_await ramp_timer_.async_wait(kNoThrow);  // cancelled only by the deadline
    }
    // Streams the deadline kept from starting still count, as timeouts.
    for (; launched < options_.streams; ++launched) finish(Failure::timeout);
  }

  asio::awaitable<void> watch_deadline() {
    deadline_.expires_after(std::chrono::seconds(options_.timeout_s));
    const auto [wait_error] = co_await deadline_.async_wait(kNoThrow);
    if (wait_error || finished_ == options_.streams) co_return;
    timed_out_ = true;
    // Closing aborts whatever each stream is waiting on; it then sees timed_out_.
    boost::system::error_code ignored;
    for (tcp::socket* socket : sockets_) {
      if (socket != nullptr) socket->close(ignored);
    }
    ramp_timer_.cancel();
  }

  asio::awaitable<void> run_stream(std::size_t index) {
    tcp::socket socket(io_);
    sockets_[index] = &socket;
    bool established = false;
    const auto failure = co_await exchange(socket, established);
    sockets_[index] = nullptr;
    if (!established) note_settled();
    finish(failure);
  }

  // One request and its whole streamed answer; nullopt when the body ended cleanly.
  asio::awaitable<std::optional<Failure>> exchange(tcp::socket& socket, bool& established) {
    // Spawned just before the deadline fired, and not yet started then.
    if (timed_out_) co_return Failure::timeout;
    // Time to first event includes connecting, as a client of the gateway would see it.
    const auto started = Clock::now();
    const auto [connect_error] = co_await socket.async_connect(options_.endpoint, kNoThrow);
    if (connect_error) co_return classify(Failure::connect);
    const auto [write_error, written] = co_await http::async_write(socket, request_, kNoThrow);
    if (write_error) co_return classify(Failure::closed);
    boost::beast::flat_buffer buffer(kReadBufferLimit);
    http::response_parser<http::buffer_body> parser;
    parser.body_limit(boost::none);  // a stream is as long as the server makes it
    const auto [head_error, head_bytes] =
        co_await http::async_read_header(socket, buffer, parser, kNoThrow);
    if (head_error) co_return classify(Failure::closed);
    if (parser.get().result() != http::status::ok) {
      if (first_bad_status_ == 0) first_bad_status_ = parser.get().result_int();
      co_return classify(Failure::status);
    }
    std::array<char, kBodyBufferSize> body{};
    EventCounter counter;
    auto last_event = started;
    while (!parser.is_done()) {
      parser.get().body().data = body.data();
      parser.get().body().size = body.size();
      const auto [read_error, consumed] =
          co_await http::async_read_some(socket, buffer, parser, kNoThrow);
      if (read_error && read_error != http::error::need_buffer) co_return classify(Failure::closed);
      // One clock read per completion: events that arrived together share an arrival time.
      const auto now = Clock::now();
      const std::size_t received = body.size() - parser.get().body().size;
      bytes_ += received;
      for (auto events = counter.feed({body.data(), received}); events > 0; --events) {
        ++events_;
        if (established) {
          gap_ms_.push_back(to_ms(now - last_event));
        } else {
          established = true;
          first_event_ms_.push_back(to_ms(now - started));
          note_settled();
        }
        last_event = now;
      }
    }
    co_return std::nullopt;
  }

  Failure classify(Failure failure) const { return timed_out_ ? Failure::timeout : failure; }

  void note_settled() {
    if (++settled_ != options_.streams) return;
    std::printf("open %zu\n", first_event_ms_.size());
    std::fflush(stdout);
  }

  void finish(std::optional<Failure> failure) {
    ++(failure ? errors_[static_cast<std::size_t>(*failure)] : ok_);
    last_end_ = Clock::now();
    if (++finished_ == options_.streams) deadline_.cancel();
  }

  asio::io_context& io_;
  const Options options_;
  http::request<http::string_body> request_;
  std::vector<tcp::socket*> sockets_;  // live streams, so the deadline can abort them
  asio::steady_timer ramp_timer_{io_};
  asio::steady_timer deadline_{io_};
  bool timed_out_ = false;
  Clock::time_point first_connect_;
  Clock::time_point last_end_;
  std::size_t settled_ = 0;
  std::size_t finished_ = 0;
  std::size_t ok_ = 0;
  std::array<std::size_t, 4> errors_{};  // by Failure
  std::size_t events_ = 0;
  std::size_t bytes_ = 0;
  int first_bad_status_ = 0;  // the first status other than 200, to say why streams failed
  std::vector<float> first_event_ms_;
  std::vector<float> gap_ms_;
};

}  // namespace

int main(int argc, char** argv) {
  auto options = parse_options(argc, argv);
  if (!options) return 2;
  raise_fd_limit();
  asio::io_context io(1);  // one thread: the hint lets Asio skip some locking
  LoadRun run(io, std::move(*options));
  run.start();
  io.run();
  return run.report();
}
