#include "switchyard/dispatch/dispatcher.hpp"

#include <array>
#include <charconv>

#include "buffer_pool.hpp"
#include "switchyard/api/json.hpp"
#include "switchyard/upstream/exchange.hpp"
#include "switchyard/upstream/sse.hpp"

namespace switchyard::dispatch {

namespace {

using upstream::Failure;
using upstream::Fault;
namespace json = api::json;

constexpr std::size_t kMaxResponseBody = 64 * 1024 * 1024;
constexpr std::size_t kMaxErrorBody = 1024 * 1024;
constexpr std::size_t kStreamReadChunk = 16 * 1024;
constexpr std::size_t kMaxDetail = 300;

std::chrono::microseconds since(telemetry::Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(telemetry::Clock::now() - t);
}

std::string_view outcome_of(const Failure& f) {
  switch (f.fault) {
    case Fault::connect_failed:
      return "connect_failed";
    case Fault::tls_failed:
      return "tls_failed";
    case Fault::timeout:
      return "timeout";
    case Fault::closed:
      return "connection_closed";
    case Fault::protocol:
      return "bad_response";
    case Fault::too_large:
      return "too_large";
    case Fault::aborted:
      return "client_gone";
    case Fault::none:
      break;
  }
  return "ok";
}

// The message of an OpenAI-style error body, or the start of whatever the body is.
std::string upstream_message(std::string_view body) {
  std::string message;
  const auto invalid = json::scan(body, [&](std::string_view key, const json::Value& v) {
    if (json::key_equals(key, "message") && v.type == json::Type::string) {
      message = json::unescape(v.raw);  // flat errors (Mistral, old vLLM)
    } else if (json::key_equals(key, "error") && v.type == json::Type::object) {
      json::for_each_member(v.raw, [&](std::string_view k, const json::Value& m) {
        if (json::key_equals(k, "message") && m.type == json::Type::string)
          message = json::unescape(m.raw);
      });
    }
  });
  if (invalid || message.empty()) message.assign(body.substr(0, kMaxDetail));
  if (message.size() > kMaxDetail) {
    message.resize(kMaxDetail);
    message += "…";
  }
  return message;
}

// Providers sometimes echo (part of) the credential they were given; it must not travel on.
void redact(std::string& text, const std::string& secret) {
  if (secret.size() < 4) return;
  for (auto pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos))
    text.replace(pos, secret.size(), "[redacted]");
}

// True for a chunk that carries nothing yet: the role preamble (`delta: {role, content: ""}`)
// with no finish reason and no usage.
bool says_nothing_yet(std::string_view chunk) {
  bool nothing = true;
  json::for_each_member(chunk, [&](std::string_view key, const json::Value& v) {
    if (json::key_equals(key, "usage") && v.type != json::Type::null) nothing = false;
    if (!json::key_equals(key, "choices") || v.type != json::Type::array) return;
    json::for_each_element(v.raw, [&](const json::Value& choice) {
      if (choice.type != json::Type::object) return;
      json::for_each_member(choice.raw, [&](std::string_view k, const json::Value& cv) {
        if (json::key_equals(k, "finish_reason") && cv.type != json::Type::null) nothing = false;
        if (!json::key_equals(k, "delta") || cv.type != json::Type::object) return;
        json::for_each_member(cv.raw, [&](std::string_view dk, const json::Value& dv) {
          const bool empty = dv.type == json::Type::null || dv.raw == "\"\"";
          if (!json::key_equals(dk, "role") && !empty) nothing = false;
        });
      });
    });
  });
  return nothing;
}

int parse_retry_after(std::string_view value) {
  int seconds = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  return ec == std::errc{} && seconds > 0 ? seconds : 0;
}

}  // namespace

void Cancellation::abort() {
  aborted_ = true;
  if (active_) active_->abort();
}

struct Dispatcher::Attempt {
  const DispatchRequest& request;
  const routing::Target& target;
  server::Responder& out;
  telemetry::RequestRecord& record;
  Cancellation& cancel;
  std::size_t number;

  // This attempt's own buffers: the request head and passed-on headers while they are being
  // written, the response while it is read and relayed.
  BufferPool::Lease head;
  BufferPool::Lease forwarded;
  BufferPool::Lease body;

  bool responded = false;
  Failure failure;
  int status = 0;
  int retry_after_s = 0;
  std::string_view outcome = "ok";
  std::string detail;
};

Dispatcher::Dispatcher(Executor ex, const config::Config& config)
    : buffers_(std::make_unique<BufferPool>()) {
  origins_.reserve(config.providers.size());
  encoders_.reserve(config.providers.size());
  for (const auto& p : config.providers) {
    origins_.push_back(std::make_unique<upstream::Origin>(ex, p));
    encoders_.emplace_back(p);
  }
}

Dispatcher::~Dispatcher() = default;

void Dispatcher::sweep_idle() {
  for (auto& o : origins_) o->sweep();
}

void Dispatcher::close_idle() {
  for (auto& o : origins_) o->close_idle();
}

void Dispatcher::add_route_headers(server::Responder& out, const DispatchRequest& request,
                                   const routing::Target& target, std::size_t attempts) {
  out.add_header("x-switchyard-route", request.route.name);
  out.add_header("x-switchyard-provider", target.provider->name);
  out.add_header("x-switchyard-model", target.model->name);
  out.add_header("x-switchyard-attempts", std::to_string(attempts));
}

void Dispatcher::build_forwarded(const DispatchRequest& request, const config::Provider& provider,
                                 std::string& out) {
  if (provider.forward_headers.empty()) return;
  std::string lower;
  for (const auto& field : request.headers) {
    const std::string_view name = field.name_string();
    lower.assign(name);
    for (char& c : lower) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
    if (!providers::openai::forwards_header(provider, lower)) continue;
    out += name;
    out += ": ";
    out += field.value();
    out += "\r\n";
  }
}

Awaitable<DispatchResult> Dispatcher::run(const DispatchRequest& request, server::Responder& out,
                                          telemetry::RequestRecord& record, Cancellation& cancel) {
  DispatchResult result;
  record.route = request.route.name;
  std::string summary;
  bool all_rate_limited = true;
  int retry_after_s = 0;
  api::errors::UpstreamFailure kind = api::errors::UpstreamFailure::bad_response;
  const routing::Target* last = nullptr;

  // The seam for retries, backoff, breakers and hedging: today each target gets one attempt.
  for (const routing::Target* target : request.route.targets) {
    if (cancel.aborted()) break;
    last = target;
    Attempt a{request,          *target,          out,
              record,           cancel,           record.attempts.size() + 1,
              buffers_->take(), buffers_->take(), buffers_->take()};
    const auto started = telemetry::Clock::now();
    co_await attempt(a);
    record.attempts.push_back({target->provider->name, target->model->name, a.status, a.outcome,
                               a.detail, since(started)});
    if (a.responded) {
      record.provider = target->provider->name;
      record.upstream_model = target->model->upstream;
      result.responded = true;
      co_return result;
    }
    if (!summary.empty()) summary += "; ";
    summary += target->model->name + " via " + target->provider->name + ": " + a.detail;
    all_rate_limited = all_rate_limited && a.status == 429;
    if (a.retry_after_s > 0 && (retry_after_s == 0 || a.retry_after_s < retry_after_s))
      retry_after_s = a.retry_after_s;
    kind = a.failure.fault == Fault::timeout ? api::errors::UpstreamFailure::timeout
           : (a.failure.fault == Fault::connect_failed || a.failure.fault == Fault::tls_failed)
               ? api::errors::UpstreamFailure::unreachable
               : api::errors::UpstreamFailure::bad_response;
  }
  if (all_rate_limited && last) kind = api::errors::UpstreamFailure::rate_limited;
  result.error =
      api::errors::all_targets_failed(kind, request.route.name, std::move(summary), retry_after_s);
  if (last) add_route_headers(out, request, *last, record.attempts.size());
  co_return result;
}

Awaitable<void> Dispatcher::attempt(Attempt& a) {
  const auto& target = a.target;
  const auto& provider = *target.provider;
  const auto& chat = a.request.chat;
  const std::string_view body = chat.body();
  const std::size_t model_at = chat.model_offset();
  const std::size_t model_len = chat.model_raw().size();

  build_forwarded(a.request, provider, *a.forwarded);
  encoders_[target.provider_index].chat_head(
      *a.head, body.size() - model_len + target.quoted_upstream.size(), a.request.request_id,
      chat.stream(), *a.forwarded);
  const std::array<asio::const_buffer, 4> request{
      asio::buffer(*a.head), asio::buffer(body.substr(0, model_at)),
      asio::buffer(target.quoted_upstream), asio::buffer(body.substr(model_at + model_len))};

  upstream::Exchange exchange(*origins_[target.provider_index]);
  a.cancel.set_active(&exchange);
  struct Inactive {
    Cancellation& c;
    ~Inactive() { c.set_active(nullptr); }
  } inactive{a.cancel};

  auto fail = [&a, &provider](Failure f) {
    a.outcome = outcome_of(f);
    a.detail = std::move(f.detail);
    redact(a.detail, provider.api_key);
    a.failure = std::move(f);
  };

  // (No co_await inside an if condition anywhere: GCC 12 miscompiles it.)
  Failure sent = co_await exchange.send(request);
  if (sent) {
    fail(std::move(sent));
    co_return;
  }
  a.status = exchange.status();
  if (a.status < 200 || a.status > 299) {
    Failure read = co_await exchange.read_body(*a.body, kMaxErrorBody);
    if (read) {
      fail(std::move(read));
      co_return;
    }
    exchange.finish();
    const auto cls = providers::openai::classify_status(a.status);
    if (cls == providers::openai::ErrorClass::final) {
      // The client's own mistake: it gets the provider's answer unchanged.
      add_route_headers(a.out, a.request, target, a.number);
      const std::string_view ct = exchange.header("content-type");
      co_await a.out.send(a.status, ct.empty() ? "application/json" : ct, *a.body);
      a.responded = true;
      a.outcome = "relayed_error";
      co_return;
    }
    a.outcome = cls == providers::openai::ErrorClass::retryable ? "retryable" : "fall_over";
    a.retry_after_s = parse_retry_after(exchange.header("retry-after"));
    a.detail = "HTTP " + std::to_string(a.status) + ": " + upstream_message(*a.body);
    redact(a.detail, provider.api_key);
    a.failure = {Fault::protocol, upstream::Timeout::none, {}};
    co_return;
  }
  if (chat.stream() && exchange.is_event_stream()) {
    co_await relay_stream(a, exchange);
  } else {
    co_await relay_json(a, exchange);
  }
  if (a.failure) fail(std::move(a.failure));
}

Awaitable<void> Dispatcher::relay_json(Attempt& a, upstream::Exchange& exchange) {
  Failure read = co_await exchange.read_body(*a.body, kMaxResponseBody);
  if (read) {
    a.failure = std::move(read);
    co_return;
  }
  exchange.finish();
  if (auto err = json::validate(*a.body)) {
    a.failure = {Fault::protocol, upstream::Timeout::none,
                 std::string("the upstream sent invalid JSON (") + err->what + " at byte " +
                     std::to_string(err->offset) + ")"};
    co_return;
  }
  add_route_headers(a.out, a.request, a.target, a.number);
  const std::string_view ct = exchange.header("content-type");
  a.record.first_byte = since(a.record.start);
  co_await a.out.send(a.status, ct.empty() ? "application/json" : ct, *a.body);
  a.responded = true;
}

Awaitable<void> Dispatcher::relay_stream(Attempt& a, upstream::Exchange& exchange) {
  upstream::SseParser sse;
  bool committed = false;       // the response head went to the client: no failover now
  bool done = false;            // saw data: [DONE]
  bool upstream_error = false;  // the upstream ended the stream with its own error event
  Failure fault;
  // Until the first event that says something (a token, a tool call, a finish reason, usage),
  // events are held back here: a target that dies after its role preamble can still be replaced
  // by the next one, and the client never sees two streams.
  std::string held;
  bool ready = false;
  std::string_view range;  // once committed: this read's events, forwarded as they are

  // Decides what happens to one event; false when the stream must stop.
  auto inspect = [&](const upstream::SseEvent& ev) {
    if (!ev.has_data) {
      // Keep-alive comments (DeepSeek, OpenRouter) are the client's once the stream is.
      if (!committed) return true;
    } else if (ev.data == "[DONE]") {
      done = ready = true;
    } else {
      bool has_error = false;
      auto err = json::scan(ev.data, [&](std::string_view key, const json::Value&) {
        if (json::key_equals(key, "error")) has_error = true;
      });
      if (err) {
        fault = {Fault::protocol, upstream::Timeout::none,
                 std::string("the upstream sent an invalid stream event (") + err->what + ")"};
        return false;
      }
      if (has_error && !committed) {
        fault = {Fault::protocol, upstream::Timeout::none,
                 "the upstream stream began with an error: " + upstream_message(ev.data)};
        return false;
      }
      upstream_error = has_error;
      ready = ready || has_error || !says_nothing_yet(ev.data);
    }
    if (!committed) {
      held += ev.raw;
    } else {
      range = range.empty()
                  ? ev.raw
                  : std::string_view(
                        range.data(),
                        static_cast<std::size_t>(ev.raw.data() + ev.raw.size() - range.data()));
    }
    return !upstream_error;
  };

  for (;;) {
    std::size_t n = 0;
    fault = co_await exchange.read_some(
        std::span<char>(sse.prepare(kStreamReadChunk), kStreamReadChunk), &n, !committed);
    if (fault) break;
    sse.commit(n);
    bool go_on = true;
    while (go_on) {
      auto ev = sse.next();
      if (!ev && n == 0) ev = sse.finish();
      if (!ev) break;
      go_on = inspect(*ev);
    }
    if (!committed && ready) {
      add_route_headers(a.out, a.request, a.target, a.number);
      a.record.first_byte = since(a.record.start);
      const bool begun = co_await a.out.begin_stream(a.status, "text/event-stream");
      if (!begun) break;
      committed = true;
      a.responded = true;
      range = held;
    }
    if (committed && !range.empty()) {
      const bool written = co_await a.out.write_chunk(range);
      if (!written) break;
      range = {};
    }
    sse.discard_consumed();
    if (!go_on || n == 0) break;
    if (sse.overflowed()) {
      fault = {Fault::protocol, upstream::Timeout::none, "a stream event exceeded the size limit"};
      break;
    }
  }

  if (a.cancel.aborted() || a.out.failed()) {
    a.record.stream_end = "client_gone";
    if (!committed) a.failure = {Fault::aborted, upstream::Timeout::none, "the client went away"};
    co_return;
  }
  if (!fault && !done && !upstream_error)
    fault = {Fault::closed, upstream::Timeout::none,
             "the upstream ended the stream without [DONE]"};
  if (!committed) {
    a.failure = std::move(fault);
    co_return;
  }
  if (fault) {
    a.record.stream_end = "interrupted";
    a.outcome = "interrupted";
    a.detail = fault.detail;
    const auto error = api::errors::stream_interrupted(fault.detail);
    co_await a.out.write_chunk(upstream::sse_data_event(error.to_json()));
  } else {
    a.record.stream_end = upstream_error ? "upstream_error" : "done";
  }
  co_await a.out.end_stream();
}

}  // namespace switchyard::dispatch
