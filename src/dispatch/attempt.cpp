// One attempt: encode the request for the target's provider, send it over a pooled connection,
// and relay the answer — JSON whole, streams event by event with backpressure — or classify why
// there is none.
#include <array>

#include <boost/beast/core/string.hpp>
#include "attempt.hpp"

#include "switchyard/dispatch/backoff.hpp"
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
// What a stream's output buffer keeps between events: one or two of the usual (100 to 400 bytes).
constexpr std::size_t kStreamOutKept = 512;

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

upstream::Failure beaten_to_it() {
  return {Fault::aborted, upstream::Timeout::none, "cancelled: another target answered first"};
}

// Providers sometimes echo (part of) the credential they were given; it must not travel on.
void redact(std::string& text, const std::string& secret) {
  if (secret.size() < 4) return;
  for (auto pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos))
    text.replace(pos, secret.size(), "[redacted]");
}

}  // namespace

void Dispatcher::Attempt::fail(Failure f) {
  outcome = outcome_of(f);
  detail = std::move(f.detail);
  redact(detail, target.provider->api_key);
  failure = std::move(f);
}

void Dispatcher::Attempt::refuse(ProviderError e) {
  redact(e.error.message, target.provider->api_key);
  outcome = outcome_of(e.error_class);
  detail = e.error.message;
  failure = {Fault::protocol, upstream::Timeout::none, {}};
  error = std::move(e);
}

bool Dispatcher::Attempt::claim_response() {
  if (!hedge) return true;
  if (hedge->answered && hedge->answered != this) {
    beaten = true;
    return false;
  }
  hedge->answered = this;
  for (Attempt* other : hedge->running) {
    if (other == nullptr || other == this) continue;
    other->beaten = true;
    if (other->exchange) other->exchange->abort();
  }
  return true;
}

bool Dispatcher::Attempt::failed_target() const {
  if (responded || beaten) return false;
  if (error) return error->error_class == ErrorClass::retryable;
  return failure.fault != Fault::none && failure.fault != Fault::aborted;
}

namespace {

using Attempt = Dispatcher::Attempt;

// What the adapter is told about the request and the target.
providers::Call call_for(Attempt& a) {
  const DispatchRequest& request = a.request;
  const auto& target = a.target;
  std::string_view anthropic_version;
  if (request.messages) anthropic_version = a.context.http.header("anthropic-version");
  return {
      *target.provider, *target.model, target.quoted_upstream, a.context.request_id(), *a.forwarded,
      request.report_upstream_model ? std::string_view(target.model->upstream) : request.model,
      std::chrono::duration_cast<std::chrono::seconds>(
          std::chrono::system_clock::now().time_since_epoch())
          .count(),
      request.stream(),
      // A Messages answer always reports its usage.
      request.messages || (request.chat && request.chat->include_usage()),
      request.embeddings && request.embeddings->base64(), anthropic_version, request.count_tokens};
}

// The request head and body as they go on the wire.
std::array<asio::const_buffer, 4> wire_buffers(Attempt& a) {
  if (!a.encoded->empty()) return {asio::buffer(*a.head), asio::buffer(*a.encoded)};
  // The client's body with only its `model` value replaced.
  const api::ModelField& client = a.request.client();
  const std::string_view body = client.body();
  const std::size_t model_at = client.model_offset();
  return {asio::buffer(*a.head), asio::buffer(body.substr(0, model_at)),
          asio::buffer(a.target.quoted_upstream),
          asio::buffer(body.substr(model_at + client.model_raw().size()))};
}

// A non-2xx answer: its body, classified, and how long the upstream asked to be left alone.
Awaitable<void> read_refusal(Attempt& a, upstream::Exchange& exchange) {
  std::optional<telemetry::WaitScope> waiting(std::in_place, a.context.record.wait);
  Failure read = co_await exchange.read_body(*a.body, kMaxErrorBody);
  waiting.reset();
  if (read) {
    a.fail(std::move(read));
    co_return;
  }
  exchange.finish();
  a.refuse(a.target.adapter->decode_error(a.status, *a.body));
  a.detail = "HTTP " + std::to_string(a.status) + ": " + a.detail;
  // The headers, or what the body said (Gemini's RetryInfo.retryDelay).
  a.retry_after =
      upstream_retry_delay([&exchange](std::string_view name) { return exchange.header(name); },
                           std::chrono::system_clock::now());
  if (!a.retry_after && a.error->error.retry_after_s > 0)
    a.retry_after = std::chrono::seconds(a.error->error.retry_after_s);
}

// How a relayed stream ended, booked on the attempt: nothing more for the client, the end of a
// complete stream, or an error event (left in `out`) and then the end.
enum class StreamEnd { none, complete, interrupted };

StreamEnd stream_end(Attempt& a, const providers::ChatStream& stream,
                     providers::ChatStream::State state, bool committed, Failure fault,
                     std::string& out) {
  using State = providers::ChatStream::State;
  if (a.beaten) {
    a.fail(beaten_to_it());
    return StreamEnd::none;
  }
  if (a.context.cancel.aborted() || a.context.response().failed()) {
    a.context.record.stream_end = "client_gone";
    if (!committed) a.fail({Fault::aborted, upstream::Timeout::none, "the client went away"});
    return StreamEnd::none;
  }
  // Complete: what the upstream does after its end (a reset, trailing bytes) only decides
  // whether its connection is reused.
  if (state == State::done) {
    a.context.record.stream_end = "done";
    return StreamEnd::complete;
  }
  if (!committed) {
    if (state == State::failed) {
      a.refuse(stream.error());
    } else {
      a.fail(std::move(fault));
    }
    return StreamEnd::none;
  }
  // Started and then broken: the client is told so, in its API's shape (without OpenAI's [DONE],
  // without Anthropic's message_stop), never left with a stream that looks complete.
  const bool upstream_said = state == State::failed;
  auto error =
      api::errors::stream_interrupted(upstream_said ? stream.error().error.message : fault.detail);
  a.outcome = upstream_said ? "upstream_error" : "interrupted";
  a.context.record.stream_end = a.outcome;
  redact(error.message, a.target.provider->api_key);
  a.detail = error.message;
  // What the upstream said of itself (Anthropic's overloaded_error) is what a client retries on.
  if (upstream_said) error.status = stream.error().error.status;
  out = error.to_event(a.context.dialect);
  return StreamEnd::interrupted;
}

}  // namespace

void Dispatcher::add_route_headers(request::ResponseSink& response, const DispatchRequest& request,
                                   const routing::Target& target, std::size_t attempts) {
  response.add_header("x-switchyard-route", request.route->name);
  response.add_header("x-switchyard-provider", target.provider->name);
  response.add_header("x-switchyard-model", target.model->name);
  response.add_header("x-switchyard-upstream-model", target.model->upstream);
  response.add_header("x-switchyard-attempts", std::to_string(attempts));
}

void Dispatcher::build_forwarded(const Attempt& a, std::string& out) {
  // W3C trace context: the client's trace goes on, with this attempt as the upstream's parent.
  const auto& record = a.context.record;
  const auto traceparent =
      telemetry::format_traceparent(record.trace_id, a.span, record.trace_flags);
  out += "traceparent: ";
  out.append(traceparent.data(), traceparent.size());
  out += "\r\n";
  if (!record.tracestate.empty()) {
    out += "tracestate: ";
    out += record.tracestate;
    out += "\r\n";
  }
  const auto& provider = *a.target.provider;
  // A Messages client's beta features go on to Anthropic, which is the one that knows them.
  if (a.request.messages && provider.type == config::ProviderType::anthropic) {
    a.context.http.for_each_field([&](std::string_view name, std::string_view value) {
      if (!boost::beast::iequals(name, "anthropic-beta")) return;
      out += "anthropic-beta: ";
      out += value;
      out += "\r\n";
    });
  }
  if (provider.forward_headers.empty()) return;
  std::string lower;
  a.context.http.for_each_field([&](std::string_view name, std::string_view value) {
    lower.assign(name);
    for (char& c : lower) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
    if (!providers::forwards_header(provider, lower)) return;
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  });
}

Awaitable<void> Dispatcher::attempt(Attempt& a) {
  const auto& adapter = *a.target.adapter;
  const DispatchRequest& request = a.request;
  build_forwarded(a, *a.forwarded);
  const providers::Call call = call_for(a);
  auto encoded = request.chat ? adapter.encode_chat(*request.chat, call, *a.head, *a.encoded)
                 : request.messages
                     ? adapter.encode_messages(*request.messages, call, *a.head, *a.encoded)
                     : adapter.encode_embeddings(*request.embeddings, call, *a.head, *a.encoded);
  a.call = &call;
  if (!encoded) {
    a.refuse(std::move(encoded).error());
    co_return;
  }
  upstream::Exchange exchange(*origins_[a.target.provider_index], a.context.deadline);
  a.exchange = &exchange;
  a.context.cancel.watch(&exchange);
  struct Unwatch {
    Attempt& a;
    ~Unwatch() {
      a.context.cancel.unwatch(a.exchange);
      a.exchange = nullptr;
    }
  } unwatch{a};

  // (No co_await inside an if condition anywhere: GCC 12 miscompiles it.)
  std::optional<telemetry::WaitScope> waiting(std::in_place, a.context.record.wait);
  Failure sent = co_await exchange.send(wire_buffers(a));
  waiting.reset();
  // The head is on its way: not kept while a stream runs for minutes.
  a.head.give_back();
  if (sent) {
    a.fail(std::move(sent));
    co_return;
  }
  a.ttfb = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 a.started);
  a.status = exchange.status();
  if (a.status < 200 || a.status > 299) {
    co_await read_refusal(a, exchange);
  } else if (call.stream && exchange.is_event_stream()) {
    co_await relay_stream(a, exchange);
  } else {
    co_await relay_json(a, exchange);
  }
}

Awaitable<void> Dispatcher::relay_json(Attempt& a, upstream::Exchange& exchange) {
  std::optional<telemetry::WaitScope> waiting(std::in_place, a.context.record.wait);
  Failure read = co_await exchange.read_body(*a.body, kMaxResponseBody);
  waiting.reset();
  if (read) {
    a.fail(std::move(read));
    co_return;
  }
  exchange.finish();
  const auto& adapter = *a.target.adapter;
  const DispatchRequest& request = a.request;
  auto decoded = request.chat       ? adapter.decode_chat(*a.body, *a.call, a.usage)
                 : request.messages ? adapter.decode_messages(*a.body, *a.call, a.usage)
                                    : adapter.decode_embeddings(*a.body, *a.call, a.usage);
  if (!decoded) {
    a.refuse(std::move(decoded).error());
    co_return;
  }
  if (!a.claim_response()) {
    a.fail(beaten_to_it());
    co_return;
  }
  auto& response = a.context.response();
  add_route_headers(response, request, a.target, a.attempts_so_far());
  if (a.usage.reported) response.add_header("x-switchyard-cost", routing::format_usd(a.cost()));
  if (request.count_tokens) response.add_header("x-switchyard-token-count", "exact");
  a.context.record.first_byte = since(a.context.record.start);
  co_await response.send(a.status, "application/json", *a.body);
  a.responded = true;
}

Awaitable<void> Dispatcher::relay_stream(Attempt& a, upstream::Exchange& exchange) {
  using State = providers::ChatStream::State;
  const auto stream = a.request.messages ? a.target.adapter->messages_stream(*a.call)
                                         : a.target.adapter->chat_stream(*a.call);
  auto& response = a.context.response();
  upstream::SseParser sse;
  // The request is sent: its buffer holds the client's bytes now, at the size of an event or
  // two rather than of the request (thousands of streams wait at once).
  std::string& out = *a.encoded;
  out.clear();
  out.shrink_to_fit();
  bool committed = false;  // the response head went to the client: no failover now
  auto state = State::open;
  Failure fault;

  // Until the first chunk that says something (a token, a tool call, a finish reason, usage),
  // the output is held back: a target that dies after its role preamble can still be replaced
  // by the next one, and the client never sees two streams.
  for (;;) {
    std::size_t n = 0;
    a.context.record.wait.begin(std::chrono::steady_clock::now());
    fault = co_await exchange.read_some(sse, &n, !committed);
    a.context.record.wait.end(std::chrono::steady_clock::now());
    if (fault) break;
    if (state == State::open) state = providers::pump(*stream, sse, out, n == 0);
    sse.discard_consumed();
    // A complete stream that never said anything (an empty answer) is still the answer.
    if (!committed && (stream->said_something() || state == State::done)) {
      if (!a.claim_response()) break;
      add_route_headers(response, a.request, a.target, a.attempts_so_far());
      a.context.record.first_byte = since(a.context.record.start);
      const bool begun = co_await response.begin_stream(a.status, "text/event-stream");
      if (!begun) break;
      committed = true;
      a.responded = true;
    }
    if (committed && !out.empty()) {
      const bool written = co_await response.write_chunk(out);
      if (!written) break;
      out.clear();
      // Room a burst needed (events that queued while the client or the gateway lagged) is not
      // kept for the rest of the stream: thousands of streams wait at once.
      if (out.capacity() > kStreamOutKept) std::string().swap(out);
    }
    // After the end the client got, the rest of the upstream body is read and dropped so the
    // connection can serve again.
    if (n == 0 || state == State::failed) break;
    if (state == State::done) sse.discard_all();
    if (sse.overflowed()) {
      fault = {Fault::protocol, upstream::Timeout::none, "a stream event exceeded the size limit"};
      break;
    }
  }
  a.usage = stream->usage();
  switch (stream_end(a, *stream, state, committed, std::move(fault), out)) {
    case StreamEnd::none:
      co_return;
    case StreamEnd::interrupted:
      co_await response.write_chunk(out);
      [[fallthrough]];
    case StreamEnd::complete:
      co_await response.end_stream();
  }
}

}  // namespace switchyard::dispatch
