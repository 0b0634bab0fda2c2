// Which route serves a request: a classifier route's verdict (heuristic, or its external
// classifier for what the heuristic finds simple), then budgets — a route that spent a cap hands
// over to its `then` route, or refuses. A request naming a model alias or a plain route is only
// ever moved along that route's own `then`.
#include "inference.hpp"
#include "key_limits.hpp"
#include "switchyard/routing/cost.hpp"
#include "switchyard/state/limit_counts.hpp"
#include "switchyard/state/limit_keeper.hpp"

namespace switchyard::handlers {

namespace {

// The classifier sees the last user message, up to this much: enough to judge, small enough to
// keep its answer within a few milliseconds.
constexpr std::size_t kClassifierPromptBytes = 4096;

void add_reason(std::string& reason, std::string_view more) {
  if (!reason.empty()) reason += "; ";
  reason += more;
}

}  // namespace

Awaitable<Inference::Choice> Inference::choose(const dispatch::DispatchRequest& job,
                                               const routing::Route& asked,
                                               std::string_view request_id, Mode mode,
                                               std::optional<config::Millis> client_deadline) {
  Choice choice;
  const routing::Route* route = &asked;
  if (const routing::ComplexityPolicy* policy = route->complexity) {
    const api::ChatRequest* chat = job.chat_view();
    if (job.messages && !chat) {
      choice.refusal = job.messages->chat_error();
      co_return choice;
    }
    if (!chat) {
      choice.refusal = api::errors::invalid_request(
          "The route '" + route->name +
              "' chooses between chat models by complexity; an embeddings request must name an "
              "embeddings model or route.",
          "model", "model_not_supported");
      co_return choice;
    }
    const std::string_view body = chat->body();
    const routing::Signals signals = policy->read(body);
    routing::Verdict verdict = policy->heuristic(signals);
    // Only a request the heuristic finds simple is worth the classifier's time: it may still be
    // hard ("prove that…"), while a long or tool-using one is complex whatever its wording.
    if (!verdict.complex && route->classifier) {
      if (mode == Mode::serve) {
        const std::string prompt =
            routing::ComplexityPolicy::last_user_text(body, kClassifierPromptBytes);
        const auto score = co_await services_.dispatcher.ask_classifier(
            *route->classifier, request_id, prompt, policy->config().classifier.timeout);
        verdict = score.value ? policy->with_score(signals, *score.value)
                              : policy->without_classifier(signals, score.why);
      } else {
        verdict = policy->without_classifier(signals, "not asked by explain");
      }
    }
    add_reason(choice.reason,
               std::string(verdict.complex ? "complex" : "simple") + " (" + verdict.reason + ")");
    route = verdict.complex ? route->complex : route->simple;
    choice.verdict = std::move(verdict);
  }
  // The config loader refused `then` chains that loop.
  std::optional<routing::Signals> signals;  // read once, for the first budget that reserves
  while (route->budget) {
    const std::string name = route_budget(*route);
    auto& spend = services_.limit_counts.route(route->budget_index);
    std::optional<state::SpendWindows::Exhausted> spent;
    if (mode == Mode::serve) {
      const api::ChatRequest* chat = job.chat_view();
      if (chat && !signals) signals = routing::read_signals(chat->body());
      // An embeddings request reserves nothing: its cost is its input alone, charged after.
      const double worst = signals ? routing::worst_cost_usd(*route, signals->prompt_tokens,
                                                             signals->max_output_tokens)
                                   : 0;
      auto reserved = co_await services_.limit_keeper.reserve(name, spend, *route->budget, worst,
                                                              hold_for(*route, client_deadline));
      spent = std::move(reserved.refusal);
      if (!spent)
        choice.hold = std::make_unique<state::Reservation>(std::move(reserved.reservation));
    } else {
      spent = co_await services_.limit_keeper.exhausted(name, spend, *route->budget);
    }
    if (!spent) break;
    const std::string note = "route '" + route->name + "' " + describe_spend(*spent);
    if (!route->then) {
      const auto wait = std::chrono::ceil<std::chrono::seconds>(spent->retry_after);
      choice.refusal = api::errors::budget_exceeded(
          "The " + note + " and has no `then` route. Try again in " + format_reset(wait) + ".",
          static_cast<int>(std::max<std::int64_t>(1, wait.count())));
      choice.route = route;
      co_return choice;
    }
    add_reason(choice.reason, note + ", so '" + route->then->name + "' serves");
    route = route->then;
  }
  choice.route = route;
  co_return choice;
}

}  // namespace switchyard::handlers
