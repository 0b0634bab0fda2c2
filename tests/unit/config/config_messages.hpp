// Loading a config in a test, and what the load reported as --check-config prints it: for
// assertions on the exact messages and for failure output.
#pragma once

#include <string>
#include <vector>

#include "switchyard/config/config.hpp"

namespace switchyard::config {

// Loads `yaml` as "test.yaml" with no environment variables set.
inline LoadResult load_yaml(std::string_view yaml) {
  return load_config_string(yaml, "test.yaml",
                            [](const std::string&) -> std::optional<std::string> { return {}; });
}

inline std::vector<std::string> printed(const LoadResult& result) {
  std::vector<std::string> lines;
  for (const Diagnostic& d : result.errors) lines.push_back(d.to_string());
  return lines;
}

inline std::string joined(const LoadResult& result) {
  std::string out;
  for (const std::string& line : printed(result)) out += line + "\n";
  return out;
}

}  // namespace switchyard::config
