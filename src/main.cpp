// switchyard: parse the command line, load the configuration, run the server.
#include <csignal>
#include <cstdio>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include <iostream>

#include "switchyard/config/config.hpp"
#include "switchyard/gateway/key_ring.hpp"
#include "switchyard/redis/overrides_store.hpp"
#include "switchyard/server/server.hpp"
#include "switchyard/telemetry/request_log.hpp"

namespace {

constexpr std::string_view kUsage =
    "usage: switchyard --config FILE          run the gateway\n"
    "       switchyard --check-config FILE    validate FILE and exit (non-zero on problems)\n"
    "       switchyard --hash-key < KEYFILE   print the sha256 of the key read from stdin,\n"
    "                                         for a `keys:` entry\n"
    "       switchyard routes|models list|get|set|delete|reset ...\n"
    "                                         the Redis overrides of routes and models\n"
    "                                         (switchyard routes --help)\n"
    "       switchyard --version\n";

int usage_error(std::string_view message) {
  std::fprintf(stderr, "switchyard: %.*s\n%.*s", static_cast<int>(message.size()), message.data(),
               static_cast<int>(kUsage.size()), kUsage.data());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path;
  bool check_only = false;
  if (argc >= 2 &&
      (std::string_view(argv[1]) == "routes" || std::string_view(argv[1]) == "models")) {
    // Its output is for people and scripts: no event log lines on it.
    switchyard::telemetry::init_logging("off");
    const std::vector<std::string_view> args(argv + 2, argv + argc);
    return switchyard::redis::run_overrides_command(argv[1], args);
  }
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--version") {
      std::printf("switchyard %s\n", SWITCHYARD_VERSION);
      return 0;
    }
    if (arg == "--help" || arg == "-h") {
      std::fwrite(kUsage.data(), 1, kUsage.size(), stdout);
      return 0;
    }
    if (arg == "--hash-key") {
      // From stdin, never argv: a key on the command line lands in shell history and ps.
      std::string key;
      std::getline(std::cin, key);
      while (!key.empty() && (key.back() == '\r' || key.back() == ' ')) key.pop_back();
      if (key.empty()) return usage_error("--hash-key reads the key from stdin, and got none");
      std::printf("%s\n", switchyard::gateway::sha256_hex(key).c_str());
      return 0;
    }
    if ((arg == "--config" || arg == "--check-config") && i + 1 < argc) {
      check_only = check_only || arg == "--check-config";
      config_path = argv[++i];
      continue;
    }
    return usage_error("unknown or incomplete argument '" + std::string(arg) + "'");
  }
  if (config_path.empty()) return usage_error("--config FILE is required");

  auto loaded = switchyard::config::load_config_file(config_path);
  if (!loaded.errors.empty()) {
    for (const auto& d : loaded.errors) std::fprintf(stderr, "%s\n", d.to_string().c_str());
    std::fprintf(stderr, "%s: %zu problem%s\n", config_path.c_str(), loaded.errors.size(),
                 loaded.errors.size() == 1 ? "" : "s");
    return 1;
  }
  if (check_only) {
    std::printf("%s: ok\n", config_path.c_str());
    return 0;
  }

  std::signal(SIGPIPE, SIG_IGN);
  auto config = std::make_shared<const switchyard::config::Config>(std::move(*loaded.config));
  try {
    switchyard::telemetry::init_logging(config->log.level,
                                        config->log.format == switchyard::config::Log::Format::text
                                            ? switchyard::telemetry::LogFormat::text
                                            : switchyard::telemetry::LogFormat::json,
                                        config->log.file);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "switchyard: %s\n", e.what());
    return 1;
  }
  switchyard::telemetry::set_request_logging(config->log.requests);
  // With Redis, the route and model overrides replicas share go over the file from the start.
  switchyard::config::Overrides overrides;
  if (config->redis) {
    if (auto fetched = switchyard::redis::fetch_overrides_now(*config->redis)) {
      overrides = std::move(*fetched);
    } else {
      switchyard::telemetry::log_event(
          switchyard::telemetry::Level::warn, "overrides",
          "starting without the Redis overrides, until Redis answers: " + fetched.error());
    }
  }
  int status = 1;
  try {
    switchyard::server::Server server(config, std::move(overrides));
    status = server.run();
  } catch (const std::exception& e) {
    switchyard::telemetry::log_event(switchyard::telemetry::Level::error, "fatal", e.what());
    std::fprintf(stderr, "switchyard: %s\n", e.what());
  }
  switchyard::telemetry::shutdown_logging();
  return status;
}
