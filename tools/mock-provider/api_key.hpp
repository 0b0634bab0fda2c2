// --api-key: switchyard-mock then demands the key the way the request's wire format carries it
// and refuses a request without it as that provider does, so a test can prove the gateway sends
// each provider its credential in the right header (and no other):
//   OpenAI     "Authorization: Bearer KEY" or Azure's "api-key: KEY"    else 401 invalid_api_key
//   Anthropic  "x-api-key: KEY"                                         else 401
//   authentication_error Gemini     "x-goog-api-key: KEY" or the query parameter key=KEY     else
//   400 API_KEY_INVALID
#pragma once

#include "wire_format.hpp"

#include <boost/beast/http/fields.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace switchyard::mock {

struct KeyRejection {
  int status = 401;
  std::string body;
};

// nullopt when `keys` is empty (no key required) or the request carries one of them. Several
// keys let one mock stand in for two providers of the same format (OpenAI and Azure, each with
// its own key), as a gateway configuration may point both at it.
std::optional<KeyRejection> check_api_key(WireFormat format,
                                          const boost::beast::http::fields& headers,
                                          std::string_view query,
                                          const std::vector<std::string>& keys,
                                          std::string_view request_id);

}  // namespace switchyard::mock
