#include "switchyard/dispatch/dispatcher.hpp"

#include <array>

#include "buffer_pool.hpp"
#include "switchyard/dispatch/retry_after.hpp"
#include "switchyard/providers/adapter.hpp"
#include "switchyard/upstream/exchange.hpp"
#include "switchyard/upstream/sse.hpp"

namespace switchyard::dispatch {

namespace {

using providers::ErrorClass;
using providers::ProviderError;
using upstream::Failure;
using upstream::Fault;

constexpr std::size_t kMaxResponseBody = 64 * 1024 * 1024;
constexpr std::size_t kMaxErrorBody = 1024 * 1024;
constexpr std::size_t kStreamReadChunk = 16 * 1024;

std::chrono::microseconds since(telemetry::Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(telemetry::Clock::now() - t);
}

std::string_view outcome_of(ErrorClass c) {
  switch (c) {
    case ErrorClass::retryable:
      return "retryable";
    case ErrorClass::fall_over:
      return "fall_over";
    case ErrorClass::final:
      return "relayed_error";
  }
  return "fall_over";
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

// Providers sometimes echo (part of) the credential they were given; it must not travel on.
void redact(std::string& text, const std::string& secret) {
  if (secret.size() < 4) return;
  for (auto pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos))
    text.replace(pos, secret.size(), "[redacted]");
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

  // This attempt's own buffers: the request head, passed-on headers and translated body while
  // they are being written, the response while it is read and relayed.
  BufferPool::Lease head;
  BufferPool::Lease forwarded;
  BufferPool::Lease encoded;
  BufferPool::Lease body;

  bool responded = false;
  Failure failure;                     // the transport failed, or
  std::optional<ProviderError> error;  // the provider refused or answered nonsense
  int status = 0;
  int retry_after_s = 0;
  std::string_view outcome = "ok";
  std::string detail;
  const providers::Call* call = nullptr;  // set once the request is encoded
  providers::Usage usage;

  // The transport failed: connect, TLS, timeout, reset, a response too large…
  void fail(Failure f) {
    outcome = outcome_of(f);
    detail = std::move(f.detail);
    redact(detail, target.provider->api_key);
    failure = std::move(f);
  }
  // The provider refused, or answered what cannot be relayed.
  void refuse(ProviderError e) {
    redact(e.error.message, target.provider->api_key);
    outcome = outcome_of(e.error_class);
    detail = e.error.message;
    failure = {Fault::protocol, upstream::Timeout::none, {}};
    error = std::move(e);
  }
};

Dispatcher::Dispatcher(Executor ex, const config::Config& config)
    : buffers_(std::make_unique<BufferPool>()) {
  origins_.reserve(config.providers.size());
  for (const auto& p : config.providers)
    origins_.push_back(std::make_unique<upstream::Origin>(ex, p));
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
  out.add_header("x-switchyard-route", request.route->name);
  out.add_header("x-switchyard-provider", target.provider->name);
  out.add_header("x-switchyard-model", target.model->name);
  out.add_header("x-switchyard-upstream-model", target.model->upstream);
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
    if (!providers::forwards_header(provider, lower)) continue;
    out += name;
    out += ": ";
    out += field.value();
    out += "\r\n";
  }
}

Awaitable<DispatchResult> Dispatcher::run(const DispatchRequest& request, server::Responder& out,
                                          telemetry::RequestRecord& record, Cancellation& cancel) {
  DispatchResult result;
  record.route = request.route->name;
  std::string summary;
  bool all_rate_limited = true;
  int retry_after_s = 0;
  api::errors::UpstreamFailure kind = api::errors::UpstreamFailure::bad_response;
  const routing::Target* last = nullptr;
  std::optional<ProviderError> last_error;

  // The seam for retries, backoff, breakers and hedging: today each target gets one attempt,
  // and a final error (the client's own mistake) ends the walk.
  for (const routing::Target* target : request.route->targets) {
    if (cancel.aborted()) break;
    last = target;
    Attempt a{request,          *target,          out,
              record,           cancel,           record.attempts.size() + 1,
              buffers_->take(), buffers_->take(), buffers_->take(),
              buffers_->take()};
    const auto started = telemetry::Clock::now();
    co_await attempt(a);
    if (!a.responded && a.error && a.error->error_class == ErrorClass::final) {
      // The client's own mistake: every provider would refuse it, so it is the answer.
      add_route_headers(out, request, *target, a.number);
      co_await out.send_error(a.error->error);
      a.responded = true;
    }
    record.attempts.push_back({target->provider->name, target->model->name, a.status, a.outcome,
                               a.detail, since(started)});
    if (a.responded) {
      record.provider = target->provider->name;
      record.upstream_model = target->model->upstream;
      record.usage_reported = a.usage.reported;
      record.prompt_tokens = a.usage.prompt;
      record.completion_tokens = a.usage.completion;
      record.cached_tokens = a.usage.cached;
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
    last_error = std::move(a.error);
  }
  if (last) add_route_headers(out, request, *last, record.attempts.size());
  // When the last target refused for a reason of its own kind — the prompt does not fit, a
  // content policy, the model or key unknown there — the client learns that reason, in OpenAI's
  // terms; outages and overloads are summed up instead.
  if (last_error && last_error->error_class != ErrorClass::retryable) {
    result.error = std::move(last_error->error);
    if (record.attempts.size() > 1) result.error.message += " (tried: " + summary + ")";
    co_return result;
  }
  if (all_rate_limited && last) kind = api::errors::UpstreamFailure::rate_limited;
  result.error =
      api::errors::all_targets_failed(kind, request.route->name, std::move(summary), retry_after_s);
  co_return result;
}

Awaitable<void> Dispatcher::attempt(Attempt& a) {
  const auto& target = a.target;
  const auto& provider = *target.provider;
  const auto& adapter = *target.adapter;
  const DispatchRequest& request = a.request;
  const bool stream = request.chat && request.chat->stream();

  build_forwarded(request, provider, *a.forwarded);
  const providers::Call call{
      provider,
      *target.model,
      target.quoted_upstream,
      request.request_id,
      *a.forwarded,
      request.report_upstream_model ? std::string_view(target.model->upstream) : request.model,
      std::chrono::duration_cast<std::chrono::seconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count(),
      stream,
      request.chat && request.chat->include_usage(),
      request.embeddings && request.embeddings->base64()};

  auto unusable = request.chat
                      ? adapter.encode_chat(*request.chat, call, *a.head, *a.encoded)
                      : adapter.encode_embeddings(*request.embeddings, call, *a.head, *a.encoded);
  a.call = &call;
  if (unusable) {
    a.refuse(std::move(*unusable));
    co_return;
  }
  // Either the adapter's own body, or the client's with only its `model` value replaced.
  const api::ModelField& client =
      request.chat ? static_cast<const api::ModelField&>(*request.chat) : *request.embeddings;
  const std::string_view body = client.body();
  const std::size_t model_at = client.model_offset();
  std::array<asio::const_buffer, 4> buffers{
      asio::buffer(*a.head), asio::buffer(body.substr(0, model_at)),
      asio::buffer(target.quoted_upstream),
      asio::buffer(body.substr(model_at + client.model_raw().size()))};
  if (!a.encoded->empty()) buffers = {asio::buffer(*a.head), asio::buffer(*a.encoded)};

  upstream::Exchange exchange(*origins_[target.provider_index]);
  a.cancel.set_active(&exchange);
  struct Inactive {
    Cancellation& c;
    ~Inactive() { c.set_active(nullptr); }
  } inactive{a.cancel};

  // (No co_await inside an if condition anywhere: GCC 12 miscompiles it.)
  Failure sent = co_await exchange.send(buffers);
  if (sent) {
    a.fail(std::move(sent));
    co_return;
  }
  a.status = exchange.status();
  if (a.status >= 200 && a.status <= 299) {
    if (stream && exchange.is_event_stream()) {
      co_await relay_stream(a, exchange);
    } else {
      co_await relay_json(a, exchange);
    }
    co_return;
  }
  Failure read = co_await exchange.read_body(*a.body, kMaxErrorBody);
  if (read) {
    a.fail(std::move(read));
    co_return;
  }
  exchange.finish();
  a.refuse(adapter.decode_error(a.status, *a.body));
  a.detail = "HTTP " + std::to_string(a.status) + ": " + a.detail;
  // The headers, or what the body said (Gemini's RetryInfo.retryDelay), in whole seconds.
  auto delay = parse_retry_after_ms(exchange.header("retry-after-ms"));
  if (!delay)
    delay = parse_retry_after(exchange.header("retry-after"), std::chrono::system_clock::now());
  a.retry_after_s = delay ? static_cast<int>((delay->count() + 999) / 1000) : 0;
  if (a.retry_after_s == 0) a.retry_after_s = a.error->error.retry_after_s;
}

Awaitable<void> Dispatcher::relay_json(Attempt& a, upstream::Exchange& exchange) {
  Failure read = co_await exchange.read_body(*a.body, kMaxResponseBody);
  if (read) {
    a.fail(std::move(read));
    co_return;
  }
  exchange.finish();
  const auto& adapter = *a.target.adapter;
  const DispatchRequest& request = a.request;
  auto unusable = request.chat ? adapter.decode_chat(*a.body, *a.call, a.usage)
                               : adapter.decode_embeddings(*a.body, *a.call, a.usage);
  if (unusable) {
    a.refuse(std::move(*unusable));
    co_return;
  }
  add_route_headers(a.out, request, a.target, a.number);
  a.record.first_byte = since(a.record.start);
  co_await a.out.send(a.status, "application/json", *a.body);
  a.responded = true;
}

Awaitable<void> Dispatcher::relay_stream(Attempt& a, upstream::Exchange& exchange) {
  const auto stream = a.target.adapter->chat_stream(*a.call);
  upstream::SseParser sse;
  std::string& out = *a.encoded;  // the request is sent: its buffer holds the client's bytes now
  out.clear();
  bool committed = false;  // the response head went to the client: no failover now
  auto state = providers::ChatStream::State::open;
  Failure fault;

  // Until the first chunk that says something (a token, a tool call, a finish reason, usage),
  // the output is held back: a target that dies after its role preamble can still be replaced
  // by the next one, and the client never sees two streams.
  for (;;) {
    std::size_t n = 0;
    fault = co_await exchange.read_some(
        std::span<char>(sse.prepare(kStreamReadChunk), kStreamReadChunk), &n, !committed);
    if (fault) break;
    sse.commit(n);
    if (state == providers::ChatStream::State::open) {
      state = providers::pump(*stream, sse, out, n == 0);
    }
    sse.discard_consumed();
    // A complete stream that never said anything (an empty answer) is still the answer.
    if (!committed && (stream->said_something() || state == providers::ChatStream::State::done)) {
      add_route_headers(a.out, a.request, a.target, a.number);
      a.record.first_byte = since(a.record.start);
      const bool begun = co_await a.out.begin_stream(a.status, "text/event-stream");
      if (!begun) break;
      committed = true;
      a.responded = true;
    }
    if (committed && !out.empty()) {
      const bool written = co_await a.out.write_chunk(out);
      if (!written) break;
      out.clear();
    }
    // After the end the client got, the rest of the upstream body is read and dropped so the
    // connection can serve again.
    if (n == 0 || state == providers::ChatStream::State::failed) break;
    if (state == providers::ChatStream::State::done) sse.discard_all();
    if (sse.overflowed()) {
      fault = {Fault::protocol, upstream::Timeout::none, "a stream event exceeded the size limit"};
      break;
    }
  }
  a.usage = stream->usage();

  if (a.cancel.aborted() || a.out.failed()) {
    a.record.stream_end = "client_gone";
    if (!committed) a.fail({Fault::aborted, upstream::Timeout::none, "the client went away"});
    co_return;
  }
  // Complete: what the upstream does after its end (a reset, trailing bytes) only decides
  // whether its connection is reused.
  if (state == providers::ChatStream::State::done) {
    a.record.stream_end = "done";
    co_await a.out.end_stream();
    co_return;
  }
  if (!committed) {
    if (state == providers::ChatStream::State::failed) {
      a.refuse(stream->error());
    } else {
      a.fail(std::move(fault));
    }
    co_return;
  }
  // Started and then broken: the client is told so, in OpenAI's shape and without [DONE], never
  // left with a stream that looks complete.
  const bool upstream_said = state == providers::ChatStream::State::failed;
  auto error =
      api::errors::stream_interrupted(upstream_said ? stream->error().error.message : fault.detail);
  a.outcome = upstream_said ? "upstream_error" : "interrupted";
  a.record.stream_end = a.outcome;
  redact(error.message, a.target.provider->api_key);
  a.detail = error.message;
  co_await a.out.write_chunk(upstream::sse_data_event(error.to_json()));
  co_await a.out.end_stream();
}

}  // namespace switchyard::dispatch
