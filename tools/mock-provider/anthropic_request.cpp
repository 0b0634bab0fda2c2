#include "anthropic_request.hpp"

#include "wire_text.hpp"

#include <array>
#include <set>
#include <string_view>

namespace switchyard::mock {
namespace {

using json = nlohmann::ordered_json;

constexpr std::array<std::string_view, 15> kTopLevelKeys = {
    "model",       "messages", "system",        "max_tokens", "stop_sequences",
    "temperature", "top_p",    "top_k",         "stream",     "tools",
    "tool_choice", "metadata", "output_config", "thinking",   "service_tier"};

bool is_top_level_key(std::string_view key) {
  for (std::string_view known : kTopLevelKeys) {
    if (key == known) return true;
  }
  return false;
}

// The blocks of a message's content; a string content has none.
const json& blocks_of(const json& message) {
  static const json kNoBlocks = json::array();
  const json* content = find_member(message, "content");
  return content != nullptr && content->is_array() ? *content : kNoBlocks;
}

bool is_block(const json& block, std::string_view type) {
  const json* found = find_member(block, "type");
  return found != nullptr && *found == type;
}

std::string string_member(const json& object, std::string_view key) {
  const json* value = find_member(object, key);
  return value != nullptr && value->is_string() ? value->get<std::string>() : std::string();
}

std::string joined(const std::vector<std::string>& ids) {
  std::string text;
  for (const std::string& id : ids) text += (text.empty() ? "" : ", ") + id;
  return text;
}

std::optional<std::string> message_error(const json& message, std::size_t index) {
  const std::string where = "messages." + std::to_string(index);
  if (!message.is_object()) {
    return where + ": Input should be a valid dictionary or object to extract fields from";
  }
  const json* role = find_member(message, "role");
  if (role == nullptr) return where + ".role: Field required";
  if (*role == "system") {
    return R"(messages: Unexpected role "system". The Messages API accepts a top-level `system` )"
           R"(parameter, not "system" as an input message role.)";
  }
  if (*role != "user" && *role != "assistant") {
    return where + ".role: Input should be 'user' or 'assistant'";
  }
  const json* content = find_member(message, "content");
  if (content == nullptr) return where + ".content: Field required";
  if (!content->is_string() && !content->is_array()) {
    return where + ".content: Input should be a valid list";
  }
  return std::nullopt;
}

// Every assistant tool_use must be answered by a tool_result in the very next message, and
// every tool_result must answer a tool_use of the message before: the API's own two errors
// (docs/providers.md, "Anthropic: errors"; anthropics/claude-code#8210).
std::optional<std::string> tool_pairing_error(const json& messages) {
  for (std::size_t i = 0; i < messages.size(); ++i) {
    std::set<std::string> used;
    std::vector<std::string> used_in_order;
    if (string_member(messages[i], "role") == "assistant") {
      for (const json& block : blocks_of(messages[i])) {
        if (!is_block(block, "tool_use")) continue;
        std::string id = string_member(block, "id");
        if (used.insert(id).second) used_in_order.push_back(std::move(id));
      }
    }
    std::set<std::string> answered;
    if (i + 1 < messages.size() && string_member(messages[i + 1], "role") == "user") {
      for (const json& block : blocks_of(messages[i + 1])) {
        if (is_block(block, "tool_result")) answered.insert(string_member(block, "tool_use_id"));
      }
    }
    std::vector<std::string> unanswered;
    for (const std::string& id : used_in_order) {
      if (answered.count(id) == 0) unanswered.push_back(id);
    }
    if (!unanswered.empty()) {
      return "messages." + std::to_string(i) +
             ": `tool_use` ids were found without `tool_result` blocks immediately after: " +
             joined(unanswered) +
             ". Each `tool_use` block must have a corresponding `tool_result` block in the next "
             "message.";
    }
    // The other direction, checked on the message after: results nobody asked for.
    if (i + 1 < messages.size() && string_member(messages[i + 1], "role") == "user") {
      const json& next_blocks = blocks_of(messages[i + 1]);
      for (std::size_t b = 0; b < next_blocks.size(); ++b) {
        if (!is_block(next_blocks[b], "tool_result")) continue;
        const std::string id = string_member(next_blocks[b], "tool_use_id");
        if (used.count(id) != 0) continue;
        return "messages." + std::to_string(i + 1) + ".content." + std::to_string(b) +
               ": unexpected `tool_use_id` found in `tool_result` blocks: " + id +
               ". Each `tool_result` block must have a corresponding `tool_use` block in the "
               "previous message.";
      }
    }
  }
  // A tool_result in the first message has no message before it to answer.
  const json& first_blocks = blocks_of(messages.front());
  for (std::size_t b = 0; b < first_blocks.size(); ++b) {
    if (!is_block(first_blocks[b], "tool_result")) continue;
    return "messages.0.content." + std::to_string(b) +
           ": unexpected `tool_use_id` found in `tool_result` blocks: " +
           string_member(first_blocks[b], "tool_use_id") +
           ". Each `tool_result` block must have a corresponding `tool_use` block in the "
           "previous message.";
  }
  return std::nullopt;
}

std::optional<std::string> tool_choice_error(const json& choice) {
  if (!choice.is_object()) {
    return "tool_choice: Input should be a valid dictionary or object to extract fields from";
  }
  const json* type = find_member(choice, "type");
  if (type == nullptr) return "tool_choice: Unable to extract tag using discriminator 'type'";
  if (*type == "tool") {
    const json* name = find_member(choice, "name");
    if (name == nullptr || !name->is_string()) return "tool_choice.tool.name: Field required";
    return std::nullopt;
  }
  if (*type == "auto" || *type == "any" || *type == "none") return std::nullopt;
  return "tool_choice: Input tag '" +
         (type->is_string() ? type->get<std::string>() : dump_json(*type)) +
         "' found using 'type' does not match any of the expected tags: 'auto', 'any', 'tool', "
         "'none'";
}

}  // namespace

std::optional<std::string> anthropic_request_error(const json& body, bool has_version_header) {
  if (!has_version_header) return "anthropic-version: header is required";
  if (body.is_discarded()) return "The request body is not valid JSON.";
  if (!body.is_object()) {
    return "Input should be a valid dictionary or object to extract fields from";
  }
  for (const auto& [key, value] : body.items()) {
    if (!is_top_level_key(key)) return key + ": Extra inputs are not permitted";
  }
  if (find_member(body, "model") == nullptr) return "model: Field required";
  const json* max_tokens = find_member(body, "max_tokens");
  if (max_tokens == nullptr) return "max_tokens: Field required";
  if (!max_tokens->is_number_integer()) return "max_tokens: Input should be a valid integer";
  if (max_tokens->get<long long>() < 1) {
    return "max_tokens: Input should be greater than or equal to 1";
  }
  const json* messages = find_member(body, "messages");
  if (messages == nullptr) return "messages: Field required";
  if (!messages->is_array()) return "messages: Input should be a valid list";
  if (messages->empty()) return "messages: at least one message is required";
  for (std::size_t i = 0; i < messages->size(); ++i) {
    if (auto error = message_error((*messages)[i], i)) return error;
  }
  if (const json* temperature = find_member(body, "temperature")) {
    if (!temperature->is_number()) return "temperature: Input should be a valid number";
    const double value = temperature->get<double>();
    if (value < 0) return "temperature: Input should be greater than or equal to 0";
    if (value > 1) return "temperature: Input should be less than or equal to 1";
  }
  if (const json* choice = find_member(body, "tool_choice")) {
    if (auto error = tool_choice_error(*choice)) return error;
  }
  return tool_pairing_error(*messages);
}

Conversation read_anthropic_conversation(const json& body) {
  Conversation conversation;
  if (const json* tools = find_member(body, "tools"); tools != nullptr && tools->is_array()) {
    for (const json& tool : *tools) {
      const json* name = find_member(tool, "name");
      if (name != nullptr && name->is_string()) {
        conversation.tools.declared.push_back(name->get<std::string>());
      }
    }
  }
  if (const json* choice = find_member(body, "tool_choice")) {
    const json* type = find_member(*choice, "type");
    if (type != nullptr && *type == "none") conversation.tools.choice = ToolOffer::Choice::none;
    if (type != nullptr && *type == "tool") {
      conversation.tools.choice = ToolOffer::Choice::named;
      conversation.tools.named.push_back(string_member(*choice, "name"));
    }
  }
  const json* messages = find_member(body, "messages");
  if (messages == nullptr || !messages->is_array() || messages->empty()) return conversation;
  const json& last = messages->back();
  if (string_member(last, "role") != "user") return conversation;
  for (const json& block : blocks_of(last)) {
    if (!is_block(block, "tool_result")) continue;
    // The last result wins; its content is a string or text blocks, joined without separator.
    std::string text;
    const json* content = find_member(block, "content");
    if (content != nullptr && content->is_string()) text = content->get<std::string>();
    if (content != nullptr && content->is_array()) {
      for (const json& part : *content) {
        if (is_block(part, "text")) text += string_member(part, "text");
      }
    }
    conversation.tool_result = std::move(text);
  }
  return conversation;
}

}  // namespace switchyard::mock
