#include "switchyard/redis/client.hpp"

#include <hiredis/async.h>
#include <openssl/evp.h>

#include <array>
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/container/small_vector.hpp>
#include <deque>
#include <stdexcept>

#include "link.hpp"
#include "switchyard/telemetry/single_writer_counter.hpp"

namespace switchyard::redis {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [&](char x, char y) { return lower(x) == lower(y); });
}

// Commands that turn the connection into something that is not request/response: hiredis would
// call their callback again and again (or never), and the replies of everything pipelined
// behind them would go to the wrong callers.
bool changes_protocol(std::string_view name) {
  for (const std::string_view c : {"subscribe", "psubscribe", "ssubscribe", "unsubscribe",
                                   "punsubscribe", "sunsubscribe", "monitor"}) {
    if (iequals(name, c)) return true;
  }
  return false;
}

// hiredis takes the words as C arrays; most commands have a handful.
struct Argv {
  boost::container::small_vector<const char*, 8> words;
  boost::container::small_vector<std::size_t, 8> lengths;
  explicit Argv(std::span<const std::string_view> args) {
    for (const std::string_view a : args) {
      words.push_back(a.data() ? a.data() : "");
      lengths.push_back(a.size());
    }
  }
  int count() const { return static_cast<int>(words.size()); }
};

}  // namespace

Reply copy_reply(const redisReply& r) {
  Reply out;
  switch (r.type) {
    case REDIS_REPLY_STRING:
      out.type = Reply::Type::string;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = Reply::Type::status;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = Reply::Type::error;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = Reply::Type::integer;
      out.integer = r.integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = Reply::Type::array;
      out.elements.reserve(r.elements);
      for (std::size_t i = 0; i < r.elements; ++i)
        out.elements.push_back(copy_reply(*r.element[i]));
      break;
    default:
      break;  // nil
  }
  return out;
}

Script::Script(std::string lua) : text_(std::move(lua)) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  if (EVP_Digest(text_.data(), text_.size(), digest.data(), &size, EVP_sha1(), nullptr) != 1)
    throw std::runtime_error("SHA-1 of a Redis script failed");
  static constexpr char kHex[] = "0123456789abcdef";
  sha1_.reserve(2 * size);
  for (unsigned int i = 0; i < size; ++i) {
    sha1_ += kHex[digest[i] >> 4];
    sha1_ += kHex[digest[i] & 0xF];
  }
}

// The connection loop (run) and the commands in flight. Commands complete through hiredis's
// callbacks, which keep raw pointers to this object: it closes its connection — running every
// callback — before it goes.
class Client::Impl {
 public:
  using Handler = asio::any_completion_handler<void(Result)>;

  Impl(const Executor& ex, config::RedisUrl url, Options options)
      : link_(ex, std::move(url), options, "client") {}
  ~Impl() { link_.close(); }

  // `self` keeps this alive while the loop runs, the Client gone or not.
  Awaitable<void> run(std::shared_ptr<Impl> self);
  void stop();
  const Executor& executor() const { return link_.executor(); }
  bool ready() const { return ready_ && link_.open(); }
  Awaitable<Result> command(std::span<const std::string_view> args);
  Awaitable<Result> command(WordList words);
  Stats stats() const {
    return {stats_.commands.load(), stats_.failures.load(), stats_.timeouts.load(),
            stats_.connects.load(), stats_.disconnects.load()};
  }

  bool started_ = false;

 private:
  // A command in flight. Created when hiredis takes the command and deleted by its callback,
  // which hiredis calls exactly once (with the reply, or with NULL when the connection goes).
  // The awaiting side may have had its answer before (a timeout): the handler is empty then.
  struct Pending {
    Impl* owner;
    Handler handler;
    Clock::time_point deadline;
  };
  // One of AUTH, SELECT, PING sent before anything else on a new connection.
  struct HandshakeStep {
    Impl* owner = nullptr;
    const char* name = "";
  };

  void issue(std::span<const std::string_view> args, Handler handler);
  void complete(Handler handler, Result result);
  Result unavailable() const;
  Awaitable<void> session();
  Awaitable<switchyard::Result<void>> handshake(Clock::time_point deadline);
  Awaitable<std::string> watch();
  void expire();
  static void on_reply(redisAsyncContext* ac, void* reply, void* privdata);
  static void on_handshake_reply(redisAsyncContext* ac, void* reply, void* privdata);

  Link link_;
  bool ready_ = false;
  std::deque<Pending*> pending_;  // in the order sent, which is the order answered
  std::array<HandshakeStep, 2> steps_;
  int handshake_left_ = 0;
  std::string handshake_error_;
  std::string close_reason_;  // why we are closing the connection, for "connection lost: …"
  // Written by the worker, read by whichever worker answers /metrics.
  struct {
    telemetry::SingleWriterCounter commands, failures, timeouts, connects, disconnects;
  } stats_;
};

Awaitable<void> Client::Impl::run([[maybe_unused]] std::shared_ptr<Impl> self) {
  while (!link_.stopping()) {
    co_await session();
    if (link_.stopping()) break;
    co_await link_.back_off();
  }
}

void Client::Impl::stop() {
  ready_ = false;
  close_reason_ = "client stopped";
  link_.stop();
}

// One connection, from connect to loss.
Awaitable<void> Client::Impl::session() {
  const auto deadline = Clock::now() + link_.options().connect_timeout;
  const auto connecting = co_await link_.connect(deadline);
  if (!connecting) {
    if (!link_.stopping()) link_.went_down(connecting.error());
    co_return;
  }
  const auto up = co_await handshake(deadline);
  if (!up) {
    link_.close();
    if (!link_.stopping()) link_.went_down(up.error());
    co_return;
  }
  ready_ = true;
  ++stats_.connects;
  link_.went_up();

  const std::string why = co_await watch();
  ready_ = false;
  ++stats_.disconnects;
  if (close_reason_.empty()) close_reason_ = why;
  link_.close();  // what is still in flight completes with "connection lost: <why>"
  if (!link_.stopping()) {
    close_reason_.clear();
    link_.went_down(why);
  }
}

// AUTH and SELECT first, pipelined, and commands only once they are answered: a command must
// not run unauthenticated or in database 0 by mistake. With neither, a PING, so that "connected"
// always means a server that answers (a stopped one's kernel still completes connect(2)).
Awaitable<switchyard::Result<void>> Client::Impl::handshake(Clock::time_point deadline) {
  const config::RedisUrl& url = link_.url();
  redisAsyncContext* ac = link_.context();
  handshake_left_ = 0;
  handshake_error_.clear();
  const auto send = [&](const char* name, std::span<const std::string_view> args) {
    HandshakeStep& step = steps_[static_cast<std::size_t>(handshake_left_)];
    step = {this, name};
    Argv argv(args);
    if (redisAsyncCommandArgv(ac, &on_handshake_reply, &step, argv.count(), argv.words.data(),
                              argv.lengths.data()) == REDIS_OK)
      ++handshake_left_;
  };
  if (!url.password.empty()) {
    if (url.user.empty()) {
      const std::array<std::string_view, 2> auth{"AUTH", url.password};
      send("AUTH", auth);
    } else {
      const std::array<std::string_view, 3> auth{"AUTH", url.user, url.password};
      send("AUTH", auth);
    }
  }
  const std::string db = std::to_string(url.db);
  if (url.db != 0) {
    const std::array<std::string_view, 2> select{"SELECT", db};
    send("SELECT", select);
  }
  if (handshake_left_ == 0) {
    const std::array<std::string_view, 1> ping{"PING"};
    send("PING", ping);
  }
  co_return co_await link_.wait_for(
      deadline, [this] { return handshake_left_ == 0; }, handshake_error_, "no answer");
}

void Client::Impl::on_handshake_reply(redisAsyncContext*, void* reply, void* privdata) {
  auto& step = *static_cast<HandshakeStep*>(privdata);
  Impl& self = *step.owner;
  if (!reply) return;  // the connection is going: handshake() sees it closed
  --self.handshake_left_;
  const auto& r = *static_cast<const redisReply*>(reply);
  if (r.type == REDIS_REPLY_ERROR && self.handshake_error_.empty())
    self.handshake_error_ = std::string(step.name) + " refused: " + std::string(r.str, r.len);
  self.link_.wake();
}

// While connected: sleeps until the oldest command's deadline, and gives up on the connection
// when a command passes it. Replies come in the order commands were sent, so the oldest command
// in flight is the first to time out. Returns why the connection ended.
Awaitable<std::string> Client::Impl::watch() {
  for (;;) {
    if (link_.stopping()) co_return "client stopped";
    if (!link_.open()) co_return link_.closed_because("connection closed");
    const auto deadline = pending_.empty() ? Clock::time_point::max() : pending_.front()->deadline;
    if (Clock::now() >= deadline) {
      expire();
      co_return "no reply within " + millis_text(link_.options().command_timeout);
    }
    co_await link_.sleep_until(deadline);
  }
}

// The commands past their deadline hear so now. hiredis cannot forget a callback: each stays
// registered with an empty handler until the connection is closed, which comes next.
void Client::Impl::expire() {
  const auto now = Clock::now();
  const std::string message = "timed out after " + millis_text(link_.options().command_timeout);
  for (Pending* p : pending_) {
    if (p->deadline > now) break;
    if (!p->handler) continue;
    ++stats_.timeouts;
    ++stats_.failures;
    complete(std::move(p->handler), Result{std::nullopt, message});
  }
}

Awaitable<Result> Client::Impl::command(std::span<const std::string_view> args) {
  return asio::async_initiate<decltype(use_awaitable), void(Result)>(
      [this, args](auto handler) { issue(args, Handler(std::move(handler))); }, use_awaitable);
}

Awaitable<Result> Client::Impl::command(WordList words) {
  return asio::async_initiate<decltype(use_awaitable), void(Result)>(
      [this, words = std::move(words)](auto handler) {
        issue(std::span<const std::string_view>(words.data(), words.size()),
              Handler(std::move(handler)));
      },
      use_awaitable);
}

Result Client::Impl::unavailable() const {
  const std::string& why = link_.why_down();
  return Result{std::nullopt, why.empty() ? "redis unavailable" : "redis unavailable: " + why};
}

void Client::Impl::issue(std::span<const std::string_view> args, Handler handler) {
  ++stats_.commands;
  if (!ready()) {
    ++stats_.failures;
    complete(std::move(handler), unavailable());
    return;
  }
  if (args.empty() || changes_protocol(args.front())) {
    ++stats_.failures;
    complete(std::move(handler),
             Result{std::nullopt, args.empty() ? "empty redis command"
                                               : "redis command '" + std::string(args.front()) +
                                                     "' is not for a Client (see Subscriber)"});
    return;
  }
  Argv argv(args);
  auto* p = new Pending{this, std::move(handler), Clock::now() + link_.options().command_timeout};
  if (redisAsyncCommandArgv(link_.context(), &on_reply, p, argv.count(), argv.words.data(),
                            argv.lengths.data()) != REDIS_OK) {
    ++stats_.failures;
    complete(std::move(p->handler), unavailable());
    delete p;
    return;
  }
  pending_.push_back(p);
  // watch() sleeps without a deadline while nothing is in flight; otherwise it wakes for an
  // earlier command's deadline and looks at this one then.
  link_.wake_before(p->deadline);
}

void Client::Impl::on_reply(redisAsyncContext* ac, void* reply, void* privdata) {
  std::unique_ptr<Pending> p(static_cast<Pending*>(privdata));
  Impl& self = *p->owner;
  if (!self.pending_.empty() && self.pending_.front() == p.get()) {
    self.pending_.pop_front();
  } else {
    std::erase(self.pending_, p.get());
  }
  if (!p->handler) return;  // it timed out already
  Result result;
  if (reply) {
    result.reply = copy_reply(*static_cast<const redisReply*>(reply));
    // NOSCRIPT is the expected first answer to EVALSHA after a restart, not a failure.
    if (result.reply->is_error() && !result.reply->str.starts_with("NOSCRIPT"))
      ++self.stats_.failures;
  } else {
    ++self.stats_.failures;
    const std::string why =
        !self.close_reason_.empty() ? self.close_reason_ : (ac->err ? ac->errstr : "");
    result.error = why.empty() ? "connection lost" : "connection lost: " + why;
  }
  self.complete(std::move(p->handler), std::move(result));
}

// Always through the executor, never from inside hiredis: the awaiting coroutine may issue more
// commands, stop the client or destroy it, none of which hiredis expects from its callback.
void Client::Impl::complete(Handler handler, Result result) {
  asio::post(link_.executor(),
             [handler = std::move(handler), result = std::move(result)]() mutable {
               std::move(handler)(std::move(result));
             });
}

Client::Client(Executor ex, config::RedisUrl url, Options options)
    : impl_(std::make_shared<Impl>(ex, std::move(url), options)) {}

Client::~Client() {
  impl_->stop();
}

void Client::start() {
  if (impl_->started_) return;
  impl_->started_ = true;
  asio::co_spawn(impl_->executor(), impl_->run(impl_), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);  // a bug: out of io_context::run()
  });
}

void Client::stop() {
  impl_->stop();
}

bool Client::connected() const {
  return impl_->ready();
}

Awaitable<Result> Client::command(std::span<const std::string_view> args) {
  return impl_->command(args);
}

Awaitable<Result> Client::command_words(WordList words) {
  return impl_->command(std::move(words));
}

Awaitable<Result> Client::eval(const Script& script, std::span<const std::string_view> keys,
                               std::span<const std::string_view> args) {
  const std::shared_ptr<Impl> impl = impl_;  // the Client may go while this waits
  const std::string key_count = std::to_string(keys.size());
  std::vector<std::string_view> argv;
  argv.reserve(3 + keys.size() + args.size());
  argv.push_back("EVALSHA");
  argv.push_back(script.sha1());
  argv.push_back(key_count);
  argv.insert(argv.end(), keys.begin(), keys.end());
  argv.insert(argv.end(), args.begin(), args.end());
  Result result = co_await impl->command(argv);
  if (result.reply && result.reply->is_error() && result.reply->str.starts_with("NOSCRIPT")) {
    argv[0] = "EVAL";
    argv[1] = script.text();
    result = co_await impl->command(argv);
  }
  co_return result;
}

Client::Stats Client::stats() const {
  return impl_->stats();
}

}  // namespace switchyard::redis
