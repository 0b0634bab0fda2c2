// What a config load reported, as --check-config prints it: for assertions on the exact
// messages and for failure output.
#pragma once

#include <string>
#include <vector>

#include "switchyard/config/config.hpp"

namespace switchyard::config {

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
