#include "mxsim/auth_rules.h"

#include <optional>
#include <set>

#include "mxsim/errors.h"
#include "mxsim/ids.h"

namespace mxsim {

namespace {

// Levels are validated as integers on the way in, but a state file may be
// hand-edited: read numbers leniently rather than crash.
std::optional<int> as_level(const nlohmann::json& value) {
  if (value.is_number_integer()) {
    return static_cast<int>(value.get<int64_t>());
  }
  if (value.is_string()) {
    try {
      return std::stoi(value.get<std::string>());
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

const nlohmann::json* power_levels(const Room& room) {
  const Event* event = room.state_event("m.room.power_levels");
  return event ? &event->content : nullptr;
}

std::optional<int> level_in(const nlohmann::json& object, const std::string& key) {
  if (!object.is_object()) {
    return std::nullopt;
  }
  auto it = object.find(key);
  if (it == object.end()) {
    return std::nullopt;
  }
  return as_level(*it);
}

void check_membership(const Room& room, const Event& event) {
  const std::string membership = event.membership();
  const std::string& target = *event.state_key;
  const std::string& sender = event.sender;

  // The creator's own join straight after the create event.
  if (membership == "join" && room.events().size() == 1 && room.creator() == target && sender == target) {
    return;
  }

  const std::string caller = room.membership_of(sender);
  const std::string target_membership = room.membership_of(target);
  const bool caller_in_room = caller == "join";
  const bool caller_invited = caller == "invite";
  const bool caller_knocked = caller == "knock" && room.version_number() >= 7;
  const bool target_in_room = target_membership == "join";
  const bool target_banned = target_membership == "ban";
  const std::string join_rule = room.join_rule();
  const int user_level = user_power_level(room, sender);
  const int target_level = user_power_level(room, target);
  const int invite_level = named_level(room, "invite", 0);
  const int ban_level = named_level(room, "ban", 50);
  const int version = room.version_number();

  if (membership != "join" && membership != "knock") {
    if ((caller_invited || caller_knocked) && membership == "leave" && target == sender) {
      return;
    }
    if (!caller_in_room) {
      throw forbidden(sender + " not in room " + room.room_id() + ".");
    }
  }

  if (membership == "invite") {
    if (target_banned) {
      throw forbidden(target + " is banned from the room");
    }
    if (target_in_room) {
      throw forbidden(target + " is already in the room.");
    }
    if (user_level < invite_level) {
      throw forbidden("You don't have permission to invite users");
    }
  } else if (membership == "join") {
    if (sender != target) {
      throw forbidden("Cannot force another user to join.");
    }
    if (target_banned) {
      throw forbidden("You are banned from this room");
    }
    bool restricted = (version >= 8 && join_rule == "restricted") || (version >= 10 && join_rule == "knock_restricted");
    if (join_rule == "public") {
      return;
    }
    if (restricted && !caller_in_room && !caller_invited) {
      auto it = event.content.find("join_authorised_via_users_server");
      if (it == event.content.end() || !it->is_string()) {
        if (join_rule == "knock_restricted") {
          throw forbidden("You are not invited to this room.");
        }
        throw forbidden("Join event is missing authorising user.");
      }
      std::string authorising = it->get<std::string>();
      if (room.membership_of(authorising) != "join") {
        throw forbidden("User " + authorising + " not in room " + room.room_id());
      }
      if (user_power_level(room, authorising) < invite_level) {
        throw forbidden("Join event authorised by invalid server.");
      }
      return;
    }
    if (restricted || join_rule == "invite" || (version >= 7 && join_rule == "knock")) {
      if (!caller_in_room && !caller_invited) {
        throw forbidden("You are not invited to this room.");
      }
      return;
    }
    throw forbidden("You are not allowed to join this room");
  } else if (membership == "leave") {
    if (target_banned && user_level < ban_level) {
      throw forbidden("You cannot unban user " + target + ".");
    }
    if (target != sender) {
      int kick_level = named_level(room, "kick", 50);
      if (user_level < kick_level || user_level <= target_level) {
        throw forbidden("You cannot kick user " + target + ".");
      }
    }
  } else if (membership == "ban") {
    if (user_level < ban_level || user_level <= target_level) {
      throw forbidden("You don't have permission to ban");
    }
  } else if (membership == "knock" && version >= 7) {
    if (join_rule != "knock" && !(version >= 10 && join_rule == "knock_restricted")) {
      throw forbidden("You don't have permission to knock");
    }
    if (target != sender) {
      throw forbidden("You cannot knock for other users");
    }
    if (target_in_room) {
      throw forbidden("You cannot knock on a room you are already in");
    }
    if (caller_invited) {
      throw forbidden("You are already invited to this room");
    }
    if (target_banned) {
      throw forbidden("You are banned from this room");
    }
  } else {
    throw bad_json("Unknown membership " + membership);
  }
}

void check_power_levels_change(const Room& room, const Event& event) {
  const Event* current = room.state_event("m.room.power_levels");
  if (!current) {
    return;
  }
  const int user_level = user_power_level(room, event.sender);
  const nlohmann::json& old_content = current->content;
  const nlohmann::json& new_content = event.content;

  auto check = [&](const std::string& dir, const std::string& key) {
    const nlohmann::json& old_map = dir.empty() ? old_content : old_content.value(dir, nlohmann::json::object());
    const nlohmann::json& new_map = dir.empty() ? new_content : new_content.value(dir, nlohmann::json::object());
    std::optional<int> old_level = level_in(old_map, key);
    std::optional<int> new_level = level_in(new_map, key);
    if (old_level && new_level && *old_level == *new_level) {
      return;
    }
    if (dir == "users" && key != event.sender && old_level && *old_level == user_level) {
      throw forbidden("You don't have permission to remove ops level equal to your own");
    }
    if ((old_level && *old_level > user_level) || (new_level && *new_level > user_level)) {
      throw forbidden("You don't have permission to add ops level greater than your own");
    }
  };

  for (const char* name : {"users_default", "events_default", "state_default", "ban", "redact", "kick", "invite"}) {
    check("", name);
  }
  for (const char* dir : {"users", "events", "notifications"}) {
    std::set<std::string> keys;
    for (const nlohmann::json* source : {&old_content, &new_content}) {
      auto it = source->find(dir);
      if (it != source->end() && it->is_object()) {
        for (auto entry = it->begin(); entry != it->end(); ++entry) {
          keys.insert(entry.key());
        }
      }
    }
    for (const auto& key : keys) {
      check(dir, key);
    }
  }
}

}  // namespace

int user_power_level(const Room& room, const std::string& user_id) {
  const nlohmann::json* levels = power_levels(room);
  if (!levels) {
    return room.creator() == user_id ? 100 : 0;
  }
  auto users = levels->find("users");
  if (users != levels->end()) {
    if (auto level = level_in(*users, user_id)) {
      return *level;
    }
  }
  return level_in(*levels, "users_default").value_or(0);
}

int named_level(const Room& room, const std::string& name, int fallback) {
  const nlohmann::json* levels = power_levels(room);
  if (!levels) {
    return fallback;
  }
  return level_in(*levels, name).value_or(fallback);
}

int send_level(const Room& room, const std::string& type, bool is_state) {
  const nlohmann::json* levels = power_levels(room);
  if (levels) {
    auto events = levels->find("events");
    if (events != levels->end()) {
      if (auto level = level_in(*events, type)) {
        return *level;
      }
    }
    if (is_state) {
      return level_in(*levels, "state_default").value_or(50);
    }
    return level_in(*levels, "events_default").value_or(0);
  }
  return is_state ? 50 : 0;
}

void validate_power_levels_content(const nlohmann::json& content) {
  for (const char* key : {"users_default", "events_default", "state_default", "ban", "redact", "kick", "invite"}) {
    auto it = content.find(key);
    if (it != content.end() && !it->is_number_integer()) {
      throw bad_json(it->dump() + " must be an integer.");
    }
  }
  for (const char* key : {"events", "notifications", "users"}) {
    auto it = content.find(key);
    if (it == content.end()) {
      continue;
    }
    if (!it->is_object()) {
      throw bad_json(it->dump() + " must be a dict wherein all the values are integers.");
    }
    for (auto entry = it->begin(); entry != it->end(); ++entry) {
      if (!entry.value().is_number_integer()) {
        throw bad_json(it->dump() + " must be a dict wherein all the values are integers.");
      }
      if (std::string(key) == "users" && !parse_user_id(entry.key())) {
        throw unknown_error(400, "Not a valid user_id: " + entry.key());
      }
    }
  }
}

void check_event_allowed(const Room& room, const Event& event) {
  if (event.type == "m.room.create") {
    if (!room.events().empty()) {
      throw forbidden("Create event has prev events");
    }
    return;
  }
  if (!room.state_event("m.room.create")) {
    throw forbidden("No create event in auth events");
  }
  if (event.type == "m.room.member" && event.state_key) {
    if (!parse_user_id(*event.state_key)) {
      throw bad_json("Not a valid user_id: " + *event.state_key);
    }
    check_membership(room, event);
    return;
  }
  if (room.membership_of(event.sender) != "join") {
    throw forbidden("User " + event.sender + " not in room " + room.room_id());
  }
  int needed = send_level(room, event.type, event.is_state());
  int level = user_power_level(room, event.sender);
  if (level < needed) {
    throw forbidden("You don't have permission to post that to the room. user_level (" + std::to_string(level) +
                    ") < send_level (" + std::to_string(needed) + ")");
  }
  if (event.state_key && !event.state_key->empty() && (*event.state_key)[0] == '@' &&
      *event.state_key != event.sender) {
    throw forbidden("You are not allowed to set others state");
  }
  if (event.type == "m.room.power_levels") {
    check_power_levels_change(room, event);
  }
  if (event.type == "m.room.redaction") {
    if (level < named_level(room, "redact", 50)) {
      // Without redact power only one's own events may go; the caller has
      // the target event, so the sender check happens here too.
      const Event* target = event.redacts ? room.find_event(*event.redacts) : nullptr;
      if (target && target->sender != event.sender) {
        throw forbidden("You don't have permission to redact events");
      }
    }
  }
}

}  // namespace mxsim
