#include "controller/state_json.h"

namespace controller {

namespace {

nlohmann::json link_json(const model::SpaceLink& link) {
  return {{"key", link.key}, {"via", link.via}, {"canonical", link.canonical}};
}

nlohmann::json account_json(const model::Account& account) {
  nlohmann::json out = {
      {"user_id", account.user_id},
      {"localpart", account.localpart},
      {"admin", account.admin},
      {"status", account.status == model::AccountStatus::active ? "active" : "suspended"},
      {"linked_accounts", account.linked_accounts},
  };
  if (account.display_name) {
    out["display_name"] = *account.display_name;
  }
  if (account.avatar_url) {
    out["avatar_url"] = *account.avatar_url;
  }
  return out;
}

nlohmann::json power_levels_json(const model::PowerLevels& levels) {
  nlohmann::json content = {
      {"ban", levels.ban},
      {"invite", levels.invite},
      {"kick", levels.kick},
      {"redact", levels.redact},
      {"events_default", levels.events_default},
      {"state_default", levels.state_default},
      {"users_default", levels.users_default},
      {"events", levels.events},
      {"users", levels.users},
      {"notifications", {{"room", levels.notifications_room}}},
  };
  // The keys mxctl does not manage (JSON text kept from an observation);
  // text that does not parse as an object adds nothing.
  nlohmann::json unmanaged =
      levels.unmanaged.empty() ? nlohmann::json() : nlohmann::json::parse(levels.unmanaged, nullptr, false);
  if (!unmanaged.is_object()) {
    return content;
  }
  // emplace never replaces: a managed key keeps mxctl's value.
  for (auto& [key, value] : unmanaged.items()) {
    if (key == "notifications" && value.is_object()) {
      for (auto& [notification, level] : value.items()) {
        content["notifications"].emplace(notification, std::move(level));
      }
    } else {
      content.emplace(key, std::move(value));
    }
  }
  return content;
}

nlohmann::json room_json(const model::Room& room) {
  nlohmann::json out = {
      {"key", room.key},
      {"alias", room.alias},
      {"kind", model::to_string(room.kind)},
      {"name", room.name},
      {"topic", room.topic},
      {"join_rule", model::to_string(room.join_rule)},
      {"history_visibility", model::to_string(room.history_visibility)},
      {"encrypted", room.encrypted},
      {"room_version", room.room_version},
      {"power_levels", power_levels_json(room.power_levels)},
      {"members", room.members},
      {"is_direct", room.is_direct},
      {"archived", room.archived},
  };
  if (room.avatar_url) {
    out["avatar_url"] = *room.avatar_url;
  }
  if (!room.allow_spaces.empty()) {
    out["allow_spaces"] = room.allow_spaces;
  }
  if (room.guests_forbidden) {
    out["guest_access"] = "forbidden";
  }
  if (room.parent) {
    out["parent"] = link_json(*room.parent);
  }
  if (!room.children.empty()) {
    nlohmann::json children = nlohmann::json::array();
    for (const model::SpaceLink& child : room.children) {
      children.push_back(link_json(child));
    }
    out["children"] = children;
  }
  if (room.once_message) {
    out["once_message"] = {{"txn_id", room.once_message->txn_id}, {"body", room.once_message->body}};
  }
  return out;
}

}  // namespace

nlohmann::json state_json(const model::MatrixState& state) {
  nlohmann::json accounts = nlohmann::json::object();
  for (const auto& [key, account] : state.accounts) {
    accounts[key] = account_json(account);
  }
  nlohmann::json rooms = nlohmann::json::object();
  for (const auto& [key, room] : state.rooms) {
    rooms[key] = room_json(room);
  }
  return {{"accounts", accounts}, {"rooms", rooms}};
}

}  // namespace controller
