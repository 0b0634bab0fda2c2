// The adapters make_adapter() chooses from, one per wire format.
#pragma once

#include <memory>

#include "switchyard/providers/adapter.hpp"

namespace switchyard::providers {

// OpenAI and every OpenAI-compatible API, Azure OpenAI included (openai_adapter.cpp).
std::unique_ptr<Adapter> make_openai_adapter(const config::Provider& provider);
// Anthropic Messages (anthropic_adapter.cpp).
std::unique_ptr<Adapter> make_anthropic_adapter(const config::Provider& provider);
// Google Gemini generateContent (gemini_adapter.cpp).
std::unique_ptr<Adapter> make_gemini_adapter(const config::Provider& provider);

}  // namespace switchyard::providers
