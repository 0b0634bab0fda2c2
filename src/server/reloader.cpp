#include "reloader.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <chrono>
#include <nlohmann/json.hpp>

#include "switchyard/api/error.hpp"
#include "switchyard/dispatch/shared_health.hpp"
#include "switchyard/redis/client.hpp"
#include "switchyard/redis/overrides_store.hpp"
#include "switchyard/redis/settings.hpp"
#include "switchyard/redis/subscriber.hpp"
#include "switchyard/telemetry/request_log.hpp"

namespace switchyard::server {

namespace {

std::int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// "routes added: a, b; routes removed: c" between two configs; "" when the names are the same.
std::string route_changes(const config::Config& before, const config::Config& after) {
  std::string added, removed;
  for (const auto& r : after.routes)
    if (!before.find_route(r.name)) added += (added.empty() ? "" : ", ") + r.name;
  for (const auto& r : before.routes)
    if (!after.find_route(r.name)) removed += (removed.empty() ? "" : ", ") + r.name;
  std::string out;
  if (!added.empty()) out += "routes added: " + added;
  if (!removed.empty())
    out += (out.empty() ? "" : "; ") + std::string("routes removed: ") + removed;
  return out;
}

}  // namespace

Reloader::Reloader(Executor main, std::shared_ptr<const gateway::ConfigGeneration> first,
                   Install install)
    : main_(main), current_(std::move(first)), install_(std::move(install)) {
  set_status("start", true, {});
}

Reloader::~Reloader() = default;

void Reloader::apply_overrides(config::Overrides overrides) {
  if (overrides == overrides_) return;
  overrides_ = std::move(overrides);
  reload_now("redis");
}

void Reloader::watch_redis() {
  const auto& settings = current_->config->redis;
  if (!settings) return;
  const auto [url, options] = *redis::Settings::of(*settings);
  redis_prefix_ = settings->prefix;
  redis_ = std::make_unique<redis::Client>(main_, url, options);
  redis_->start();
  // One subscription for both: configuration changes, and what other replicas learnt of the
  // upstreams' health (dispatch/shared_health.hpp).
  const std::string config_channel = redis::OverrideNames(settings->prefix).channel;
  const std::string health_channel = dispatch::HealthNames(settings->prefix).channel;
  std::vector<std::string> channels{config_channel, health_channel};
  for (const Watch& w : watches_) channels.push_back(w.channel);
  subscriber_ = std::make_unique<redis::Subscriber>(
      main_, url, std::move(channels),
      [this, config_channel, health_channel](std::string_view channel, std::string_view message) {
        if (channel == config_channel) {
          asio::co_spawn(main_, refresh_overrides(), asio::detached);
          return;
        }
        if (channel != health_channel) {
          for (const Watch& w : watches_)
            if (channel == w.channel) w.on_message(message);
          return;
        }
        const auto space = message.find(' ');
        if (space != std::string_view::npos)
          dispatch::apply_health(message.substr(0, space), message.substr(space + 1),
                                 *current_->board);
      },
      [this] {
        // Whatever was missed while the subscription was down.
        asio::co_spawn(main_, refresh_overrides(), asio::detached);
        asio::co_spawn(main_, catch_up(), asio::detached);
      },
      options);
  subscriber_->start();
}

void Reloader::stop() {
  if (subscriber_) subscriber_->stop();
  if (redis_) redis_->stop();
}

Awaitable<void> Reloader::wait_for_redis() {
  // The subscription can be up a moment before the command connection.
  Timer wait(main_);
  for (int i = 0; i < 100 && !redis_->connected(); ++i) {
    wait.expires_after(std::chrono::milliseconds(10));
    co_await wait.async_wait(as_result);
  }
}

Awaitable<void> Reloader::catch_up() {
  co_await wait_for_redis();
  // Keeps the board it catches up alive, whatever a reload meanwhile does.
  const auto generation = current_;
  co_await dispatch::catch_up_health(*redis_, redis_prefix_, *generation->board);
  for (const Watch& w : watches_)
    if (w.on_connect) co_await w.on_connect(*redis_);
}

Awaitable<void> Reloader::refresh_overrides() {
  // One reader at a time; an announcement meanwhile means reading once more after it.
  if (refreshing_) {
    refresh_again_ = true;
    co_return;
  }
  refreshing_ = true;
  do {
    refresh_again_ = false;
    co_await wait_for_redis();
    auto fetched = co_await redis::fetch_overrides(*redis_, redis_prefix_);
    if (fetched) {
      apply_overrides(std::move(*fetched));
    } else {
      telemetry::log_event(telemetry::Level::warn, "overrides",
                           "could not read the route and model overrides: " + fetched.error());
    }
  } while (refresh_again_);
  refreshing_ = false;
}

handlers::Control::Outcome Reloader::reload_now(std::string_view trigger) {
  const std::string& path = current_->config->source;
  auto loaded = config::load_config_file(path, config::process_env(), overrides_);
  if (!loaded.errors.empty()) {
    std::vector<std::string> errors;
    for (const auto& d : loaded.errors) {
      errors.push_back(d.to_string());
      telemetry::log_event(telemetry::Level::error, "reload_error", errors.back());
    }
    ++failed_;
    telemetry::log_event(telemetry::Level::error, "reload_failed",
                         "configuration not reloaded (" + std::string(trigger) +
                             "): " + std::to_string(errors.size()) + " problem" +
                             (errors.size() == 1 ? "" : "s") + " in " + path + "; generation " +
                             std::to_string(current_->generation) + " keeps serving");
    set_status(trigger, false, errors);
    const std::string summary =
        errors.front() +
        (errors.size() > 1 ? " (and " + std::to_string(errors.size() - 1) + " more problems)" : "");
    // The OpenAI error shape, with the status beside it.
    std::string body = api::errors::reload_failed(summary).to_json();
    body.pop_back();
    body += ",\"reload\":" + reload_status() + "}";
    return {false, std::move(body)};
  }

  auto config = std::make_shared<const config::Config>(std::move(*loaded.config));
  // The listener, workers, logging, Redis connections and the memory cache's size are set up
  // once, at start.
  const config::Config& before = *current_->config;
  std::string fixed;
  auto changed = [&](bool same, std::string_view what) {
    if (!same) fixed += (fixed.empty() ? "" : ", ") + std::string(what);
  };
  changed(config->server == before.server, "server");
  changed(config->log == before.log, "log");
  changed(config->metrics == before.metrics, "metrics");
  changed(config->tracing == before.tracing, "tracing");
  changed(config->redis == before.redis, "redis");
  changed(config->cache.max_bytes == before.cache.max_bytes, "cache.max_bytes");
  if (!fixed.empty())
    telemetry::log_event(
        telemetry::Level::warn, "reload_restart_needed",
        "settings changed in " + path + " take effect at the next restart: " + fixed);

  const std::string changes = route_changes(*current_->config, *config);
  try {
    current_ = gateway::ConfigGeneration::build(std::move(config), current_.get());
  } catch (const std::exception& e) {
    // Nothing a valid config should cause (memory, a pattern the library cannot compile).
    ++failed_;
    telemetry::log_event(telemetry::Level::error, "reload_failed",
                         std::string("configuration not reloaded: ") + e.what());
    set_status(trigger, false, {e.what()});
    return {false, api::errors::reload_failed(e.what()).to_json()};
  }
  install_(current_);
  ++succeeded_;
  telemetry::log_event(telemetry::Level::info, "reloaded",
                       "configuration reloaded (" + std::string(trigger) + "): generation " +
                           std::to_string(current_->generation) + ", " +
                           std::to_string(current_->config->routes.size()) + " routes, " +
                           std::to_string(current_->config->models.size()) + " models" +
                           (changes.empty() ? "" : "; " + changes));
  set_status(trigger, true, {});
  return {true, reload_status()};
}

Awaitable<handlers::Control::Outcome> Reloader::reload() {
  // Runs on the main thread, and resumes the caller on its own.
  co_return co_await asio::co_spawn(
      main_, [this]() -> Awaitable<handlers::Control::Outcome> { co_return reload_now("admin"); },
      use_awaitable);
}

Reloader::Counts Reloader::counts() const {
  return {succeeded_.load(), failed_.load(), generation_.load(), last_ok_.load()};
}

std::string Reloader::reload_status() const {
  std::lock_guard lock(status_mutex_);
  return status_;
}

void Reloader::set_status(std::string_view trigger, bool ok,
                          const std::vector<std::string>& errors) {
  nlohmann::ordered_json status{
      {"generation", current_->generation},
      {"source", current_->config->source},
      {"last_reload",
       {{"trigger", trigger}, {"ok", ok}, {"at_unix_ms", unix_ms()}, {"errors", errors}}},
      {"reloads", {{"ok", succeeded_.load()}, {"failed", failed_.load()}}},
  };
  generation_ = current_->generation;
  last_ok_ = ok;
  std::lock_guard lock(status_mutex_);
  status_ = status.dump();
}

}  // namespace switchyard::server
