#include "adapters/homeserver/event_shape.h"

namespace adapters {

model::Result<void> check_events(const Answer& answer, const nlohmann::json& events, const std::string& where,
                                 bool state_only) {
  if (auto array = answer.value(events, where.empty() ? "the body" : where, JsonType::array); !array) {
    return tl::unexpected(array.error());
  }
  std::size_t index = 0;
  for (const nlohmann::json& event : events) {
    const std::string at = where + "[" + std::to_string(index++) + "]";
    for (auto [name, type] : {std::pair{"type", JsonType::string}, std::pair{"sender", JsonType::string},
                              std::pair{"content", JsonType::object}}) {
      if (auto found = answer.field(event, at, name, type); !found) {
        return tl::unexpected(found.error());
      }
    }
    auto state_key = state_only ? answer.field(event, at, "state_key", JsonType::string)
                                : answer.optional_field(event, at, "state_key", JsonType::string);
    if (!state_key) {
      return tl::unexpected(state_key.error());
    }
  }
  return {};
}

model::Result<void> check_state_events(const std::string& method, const std::string& path, const nlohmann::json& body) {
  Answer answer(method, path, body);
  if (auto array = answer.body(JsonType::array); !array) {
    return tl::unexpected(array.error());
  }
  return check_events(answer, body, "", true);
}

}  // namespace adapters
