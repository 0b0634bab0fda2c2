// The ResponseScript each request of switchyard-mock starts from before its x-mock-* headers:
// the command line's, changed at run time by POST /_mock/defaults and restored by POST
// /_mock/reset. That is how a test makes a mock fail, and then recover, for requests that carry
// no x-mock-* headers at all: the gateway's health probes, or traffic meant to trip a breaker.
#pragma once

#include "response_script.hpp"

#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace switchyard::mock {

class MockDefaults {
 public:
  explicit MockDefaults(const ResponseScript& command_line)
      : command_line_(command_line), current_(command_line) {}

  ResponseScript current() const;
  // Applies a JSON object of directives, named and checked as the x-mock-* headers are
  // ({"status":"503","delay-ms":"100"}), on top of the current defaults: all of them or, when
  // one is bad, none. Returns why the body was refused.
  std::optional<std::string> apply_json(std::string_view body);
  // Back to the command line's.
  void reset();

 private:
  const ResponseScript command_line_;
  // Sessions on several threads (--threads) read the defaults while a test changes them.
  mutable std::mutex mutex_;
  ResponseScript current_;
};

}  // namespace switchyard::mock
