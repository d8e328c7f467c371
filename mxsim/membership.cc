#include "mxsim/membership.h"

#include "mxsim/auth_rules.h"
#include "mxsim/errors.h"

namespace mxsim {

namespace {

MatrixError forbidden_blocked() { return unknown_error(403, "This room has been blocked on this server"); }

bool is_restricted(const Room& room) {
  std::string rule = room.join_rule();
  return (room.version_number() >= 8 && rule == "restricted") ||
         (room.version_number() >= 10 && rule == "knock_restricted");
}

/// Synapse's check_restricted_join_rules: the joiner must be joined to one of
/// the rooms named in `allow`.
void check_allowed_rooms(ServerState& state, const Room& room, const std::string& user_id) {
  const Event* rules = room.state_event("m.room.join_rules");
  if (rules) {
    auto allow = rules->content.find("allow");
    if (allow != rules->content.end() && allow->is_array()) {
      for (const auto& entry : *allow) {
        if (!entry.is_object() || entry.value("type", "") != "m.room_membership") {
          continue;
        }
        Room* allowed = state.find_room(entry.value("room_id", ""));
        if (allowed && allowed->membership_of(user_id) == "join") {
          return;
        }
      }
    }
  }
  throw forbidden("You do not belong to any of the required rooms/spaces to join this room.");
}

/// A local joined user able to invite, to vouch for a restricted join
/// (Synapse prefers the creator, then anyone with enough power).
std::string authorising_user(ServerState& state, const Room& room) {
  int invite_level = named_level(room, "invite", 0);
  std::string creator = room.creator();
  if (room.membership_of(creator) == "join" && state.is_local_user(creator) &&
      user_power_level(room, creator) >= invite_level) {
    return creator;
  }
  std::string best;
  int best_level = -1;
  for (const auto& user : room.users_with("join")) {
    int level = user_power_level(room, user);
    if (state.is_local_user(user) && level >= invite_level && level > best_level) {
      best = user;
      best_level = level;
    }
  }
  if (best.empty()) {
    throw MatrixError(400, "M_UNABLE_TO_GRANT_JOIN", "Unable to find a user which could issue an invite");
  }
  return best;
}

}  // namespace

nlohmann::json profile_content(ServerState& state, const std::string& user_id) {
  nlohmann::json content = nlohmann::json::object();
  if (User* user = state.find_user(user_id)) {
    if (user->displayname) {
      content["displayname"] = *user->displayname;
    }
    if (user->avatar_url) {
      content["avatar_url"] = *user->avatar_url;
    }
  }
  return content;
}

void propagate_profile(ServerState& state, const std::string& user_id) {
  for (auto& [room_id, room] : state.rooms) {
    if (room->membership_of(user_id) != "join") {
      continue;
    }
    try {
      update_membership(state, *room, MembershipChange{user_id, user_id, "join", std::nullopt, {}});
    } catch (const MatrixError&) {
      // Synapse logs and carries on when one room refuses the update.
    }
  }
}

std::string update_membership(ServerState& state, Room& room, const MembershipChange& change) {
  const std::string& action = change.action;
  std::string membership = action;
  if (action == "kick" || action == "unban") {
    membership = "leave";
  }
  if (membership != "invite" && membership != "join" && membership != "leave" && membership != "ban" &&
      membership != "knock") {
    throw unknown_error(400, "Invalid membership key");
  }

  if (membership != "leave" && membership != "ban" && state.blocked_rooms.count(room.room_id())) {
    throw forbidden_blocked();
  }

  const Event* old_event = room.state_event("m.room.member", change.target);
  if (old_event) {
    std::string old_membership = old_event->membership();
    if (action == "unban" && old_membership != "ban") {
      throw MatrixError(403, "M_BAD_STATE",
                        "Cannot unban user who was not banned (membership=" + old_membership + ")");
    }
    if (old_membership == "ban" && action != "ban" && action != "unban" && action != "leave") {
      throw MatrixError(403, "M_BAD_STATE", "Cannot " + action + " user who was banned");
    }
    // Observed on Synapse: leaving a room one has already left answers 200
    // with nothing new.
    if (membership == "leave" && change.target == change.sender && old_membership == "leave") {
      return old_event->event_id;
    }
    if ((old_membership == "ban" || old_membership == "leave") && action == "kick") {
      throw forbidden("The target user is not in the room");
    }
  } else if (action == "kick") {
    throw forbidden("The target user is not in the room");
  }
  // Like Synapse, an unban of somebody with no membership at all is not
  // refused here: it becomes a leave event the auth rules judge as a kick.

  nlohmann::json content = change.extra_content.is_object() ? change.extra_content : nlohmann::json::object();
  content.erase("join_authorised_via_users_server");
  content["membership"] = membership;
  if (change.reason) {
    content["reason"] = *change.reason;
  }
  if (membership == "join" || membership == "invite" || membership == "knock") {
    nlohmann::json profile = profile_content(state, change.target);
    for (auto it = profile.begin(); it != profile.end(); ++it) {
      if (!content.contains(it.key())) {
        content[it.key()] = it.value();
      }
    }
  }
  if (membership == "join" && change.sender == change.target && is_restricted(room)) {
    std::string current = room.membership_of(change.target);
    if (current != "join" && current != "invite") {
      check_allowed_rooms(state, room, change.target);
      content["join_authorised_via_users_server"] = authorising_user(state, room);
    }
  }

  // Synapse's deduplicate_state_event: the same sender and content (profile
  // included) again is the event that stands, and nothing is sent.
  if (old_event && old_event->sender == change.sender && old_event->content == content) {
    return old_event->event_id;
  }
  Event event;
  event.type = "m.room.member";
  event.sender = change.sender;
  event.state_key = change.target;
  event.content = std::move(content);
  return state.commit_event(room, std::move(event)).event_id;
}

}  // namespace mxsim
