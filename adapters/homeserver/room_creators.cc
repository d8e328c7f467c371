#include "adapters/homeserver/room_creators.h"

#include <charconv>

namespace adapters {

namespace {

constexpr int k_first_creator_power_version = 12;

}  // namespace

bool creators_have_unlimited_power(const std::string& room_version) {
  if (room_version == "org.matrix.hydra.11") {
    return true;
  }
  if (room_version.empty() || room_version.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  int version = 0;
  auto [end, error] = std::from_chars(room_version.data(), room_version.data() + room_version.size(), version);
  // Too large for int is certainly later than 12.
  return error == std::errc::result_out_of_range || version >= k_first_creator_power_version;
}

std::set<std::string> room_creators(const nlohmann::json& state_events) {
  std::set<std::string> creators;
  if (!state_events.is_array()) {
    return creators;
  }
  for (const nlohmann::json& event : state_events) {
    if (!event.is_object() || event.value("type", "") != "m.room.create" || event.value("state_key", "x") != "") {
      continue;
    }
    if (auto sender = event.find("sender"); sender != event.end() && sender->is_string()) {
      creators.insert(sender->get<std::string>());
    }
    auto content = event.find("content");
    if (content == event.end() || !content->is_object()) {
      continue;
    }
    if (auto more = content->find("additional_creators"); more != content->end() && more->is_array()) {
      for (const nlohmann::json& user : *more) {
        if (user.is_string()) {
          creators.insert(user.get<std::string>());
        }
      }
    }
  }
  return creators;
}

void leave_out_creators(nlohmann::json& power_levels_content, const std::set<std::string>& creators) {
  if (!power_levels_content.is_object()) {
    return;
  }
  auto users = power_levels_content.find("users");
  if (users == power_levels_content.end() || !users->is_object()) {
    return;
  }
  for (const std::string& creator : creators) {
    users->erase(creator);
  }
}

void credit_creators(model::PowerLevels& observed, const model::PowerLevels& desired,
                     const std::set<std::string>& creators) {
  for (const std::string& creator : creators) {
    if (auto want = desired.users.find(creator); want != desired.users.end()) {
      observed.users[creator] = want->second;
    }
  }
}

}  // namespace adapters
