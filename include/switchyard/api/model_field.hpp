// The `model` of a request body every endpoint routes on: the decoded name, and the exact bytes
// of its value in the body, which forwarding replaces with the upstream's name.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace switchyard::api {

class ModelField {
 public:
  std::string_view body() const { return body_; }
  // The requested model or route name, escapes decoded.
  std::string_view model() const {
    return model_decoded_.empty() ? model_raw_.substr(1, model_raw_.size() - 2) : model_decoded_;
  }
  // The exact bytes of the "model" value in body(), quotes included: what a rewrite replaces.
  std::string_view model_raw() const { return model_raw_; }
  std::size_t model_offset() const {
    return static_cast<std::size_t>(model_raw_.data() - body_.data());
  }

 protected:
  std::string_view body_;
  std::string_view model_raw_;
  std::string model_decoded_;  // only when the name has escapes
};

}  // namespace switchyard::api
