#include "adapters/homeserver/event_shape.h"

namespace adapters {

namespace {

bool has(const nlohmann::json& event, const char* name, nlohmann::json::value_t type) {
  auto found = event.find(name);
  return found != event.end() && found->type() == type;
}

// What check_events asks of one event, without saying what is wrong.
bool well_formed(const nlohmann::json& event, bool state_only) {
  using Type = nlohmann::json::value_t;
  if (!event.is_object() || !has(event, "type", Type::string) || !has(event, "sender", Type::string) ||
      !has(event, "content", Type::object)) {
    return false;
  }
  auto state_key = event.find("state_key");
  if (state_key == event.end() || state_key->is_null()) {
    return !state_only;
  }
  return state_key->is_string();
}

}  // namespace

model::Result<void> check_events(const Answer& answer, const nlohmann::json& events, const std::string& where,
                                 bool state_only) {
  if (auto array = answer.value(events, where.empty() ? "the body" : where, JsonType::array); !array) {
    return tl::unexpected(array.error());
  }
  std::size_t index = 0;
  for (const nlohmann::json& event : events) {
    if (well_formed(event, state_only)) {
      ++index;
      continue;  // the usual case, without building the event's path
    }
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
