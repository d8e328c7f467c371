// Client-server API, membership: invite, join (by id or alias), leave,
// kick, ban, unban, knock and forget, with the appservice user and alias
// queries that Synapse makes before acting on an unknown id.

#include <algorithm>
#include <thread>

#include "mxsim/errors.h"
#include "mxsim/homeserver.h"
#include "mxsim/ids.h"
#include "mxsim/invite_checks.h"
#include "mxsim/membership.h"
#include "mxsim/routes.h"

namespace mxsim {

namespace {

std::string target_user(const nlohmann::json& body) {
  if (!body.contains("user_id")) {
    throw missing_param("Missing params: ['user_id']");
  }
  if (!body["user_id"].is_string() || !parse_user_id(body["user_id"].get<std::string>())) {
    throw invalid_param("Expected user id, got " + body["user_id"].dump());
  }
  return body["user_id"].get<std::string>();
}

std::optional<std::string> reason_of(const nlohmann::json& body) {
  if (body.contains("reason") && body["reason"].is_string()) {
    return body["reason"].get<std::string>();
  }
  return std::nullopt;
}

/// Asks the appservice owning `user_id` about it when the user is unknown
/// (spec: the homeserver queries before acting on an unknown user in an
/// appservice namespace). Must be called without the state lock.
void query_unknown_user(Homeserver& hs, const std::string& user_id) {
  std::optional<AppService> target;
  {
    auto lock = hs.read_lock();
    ServerState& state = hs.state();
    if (!state.is_local_user(user_id) || state.find_user(user_id)) {
      return;
    }
    for (const auto& service : state.appservices) {
      if (!service.url.empty() && service.interested_in_user(user_id, state.server_name)) {
        target = service;
        break;
      }
    }
  }
  if (target) {
    hs.appservice_client().query_user(*target, user_id);
  }
}

/// Resolves a room id or alias to a room id, querying appservices for
/// unknown aliases in their namespace. Throws 404 M_NOT_FOUND.
std::string resolve_room(Homeserver& hs, const std::string& id_or_alias) {
  if (!id_or_alias.empty() && id_or_alias[0] == '!') {
    return id_or_alias;
  }
  if (!parse_room_alias(id_or_alias)) {
    throw invalid_param(id_or_alias + " was not legal room ID or room alias");
  }
  std::optional<AppService> target;
  {
    auto lock = hs.read_lock();
    ServerState& state = hs.state();
    auto it = state.aliases.find(id_or_alias);
    if (it != state.aliases.end()) {
      return it->second.room_id;
    }
    for (const auto& service : state.appservices) {
      if (!service.url.empty() && service.interested_in_alias(id_or_alias)) {
        target = service;
        break;
      }
    }
  }
  if (target && hs.appservice_client().query_alias(*target, id_or_alias)) {
    auto lock = hs.read_lock();
    auto it = hs.state().aliases.find(id_or_alias);
    if (it != hs.state().aliases.end()) {
      return it->second.room_id;
    }
  }
  throw not_found("Room alias " + id_or_alias + " not found");
}

ApiResponse do_join(Homeserver& hs, const ApiRequest& request, const std::string& id_or_alias) {
  nlohmann::json body = request.json_object(true);
  std::string room_id = resolve_room(hs, id_or_alias);
  auto lock = hs.write_lock();
  ServerState& state = hs.state();
  Requester requester = authenticate(state, request);
  require_not_suspended(state, requester, "Joining rooms while account is suspended is not allowed.");
  if (state.blocked_rooms.count(room_id)) {
    throw unknown_error(403, "This room has been blocked on this server");
  }
  Room* room = state.find_room(room_id);
  if (!room) {
    throw not_found("No known servers");
  }
  // Synapse joins a room no local user is in through the servers that are;
  // with none given (or none left) it cannot, whoever invited the user.
  const std::vector<std::string> joined = room->users_with("join");
  if (std::none_of(joined.begin(), joined.end(), [&](const std::string& user) { return state.is_local_user(user); })) {
    throw unknown_error(404, "Can't join remote room because no servers that are in the room have been provided.");
  }
  if (room->membership_of(requester.user_id) != "join") {
    hs.check_rate("join", requester);
  }
  MembershipChange change{requester.user_id, requester.user_id, "join", reason_of(body), {}};
  update_membership(state, *room, change);
  return ApiResponse::json(200, {{"room_id", room_id}});
}

/// Synapse's answer to an invite whose invitee's server cannot be reached
/// (federation.h), given after the federation timeout; nothing when the
/// invitee's server is reachable, or when the local checks refuse the
/// invite first (they come before Synapse asks the remote server).
void refuse_unreachable_invitee(Homeserver& hs, const ApiRequest& request, const std::string& room_id,
                                const std::string& target) {
  std::optional<std::string> server = hs.federation().unreachable_server_of(target);
  if (!server) {
    return;
  }
  {
    auto lock = hs.read_lock();
    ServerState& state = hs.state();
    Requester requester = authenticate(state, request);
    Room* room = state.find_room(room_id);
    if (state.is_local_user(target) || !room || room->membership_of(requester.user_id) != "join") {
      return;
    }
    const std::string current = room->membership_of(target);
    if (current == "join" || current == "ban") {
      return;
    }
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(hs.federation().settings().timeout_ms));
  throw unknown_error(502, "Can't connect to server " + *server);
}

void add_targeted_action(Homeserver& hs, Router& router, const std::string& action) {
  router.add_client("POST", "/rooms/{roomId}/" + action, [&hs, action](const ApiRequest& request,
                                                                       const PathParams& params) {
    nlohmann::json body = request.json_object();
    std::string target = target_user(body);
    if (action == "invite") {
      check_before_invite(hs, request, params.at("roomId"), target);
    }
    auto lock = hs.write_lock();
    ServerState& state = hs.state();
    Requester requester = authenticate(state, request);
    if (action == "invite") {
      require_not_suspended(state, requester, "Sending invites while account is suspended is not allowed.");
    }
    Room* room = state.find_room(params.at("roomId"));
    if (!room) {
      throw not_found("Unknown room " + params.at("roomId"));
    }
    if (action == "invite") {
      hs.check_rate("invite", requester);
    }
    update_membership(state, *room, MembershipChange{requester.user_id, target, action, reason_of(body), {}});
    return ApiResponse::json(200, nlohmann::json::object());
  });
}

}  // namespace

void check_before_invite(Homeserver& hs, const ApiRequest& request, const std::string& room_id,
                         const std::string& target) {
  query_unknown_user(hs, target);
  refuse_unreachable_invitee(hs, request, room_id, target);
}

void add_client_membership_routes(Homeserver& hs, Router& router) {
  for (const char* action : {"invite", "kick", "ban", "unban"}) {
    add_targeted_action(hs, router, action);
  }

  router.add_client("POST", "/rooms/{roomId}/join", [&hs](const ApiRequest& request, const PathParams& params) {
    return do_join(hs, request, params.at("roomId"));
  });

  router.add_client("POST", "/join/{roomIdOrAlias}", [&hs](const ApiRequest& request, const PathParams& params) {
    return do_join(hs, request, params.at("roomIdOrAlias"));
  });

  router.add_client("POST", "/rooms/{roomId}/leave", [&hs](const ApiRequest& request, const PathParams& params) {
    nlohmann::json body = request.json_object(true);
    auto lock = hs.write_lock();
    ServerState& state = hs.state();
    Requester requester = authenticate(state, request);
    Room* room = state.find_room(params.at("roomId"));
    if (!room) {
      throw not_found("Not a known room");
    }
    update_membership(state, *room, MembershipChange{requester.user_id, requester.user_id, "leave", reason_of(body), {}});
    return ApiResponse::json(200, nlohmann::json::object());
  });

  router.add_client("POST", "/knock/{roomIdOrAlias}", [&hs](const ApiRequest& request, const PathParams& params) {
    nlohmann::json body = request.json_object(true);
    std::string room_id = resolve_room(hs, params.at("roomIdOrAlias"));
    auto lock = hs.write_lock();
    ServerState& state = hs.state();
    Requester requester = authenticate(state, request);
    require_not_suspended(state, requester, "Knocking on rooms while account is suspended is not allowed.");
    Room* room = state.find_room(room_id);
    if (!room) {
      throw not_found("No known servers");
    }
    update_membership(state, *room, MembershipChange{requester.user_id, requester.user_id, "knock", reason_of(body), {}});
    return ApiResponse::json(200, {{"room_id", room_id}});
  });

  router.add_client("POST", "/rooms/{roomId}/forget", [&hs](const ApiRequest& request, const PathParams& params) {
    auto lock = hs.write_lock();
    ServerState& state = hs.state();
    Requester requester = authenticate(state, request);
    Room* room = state.find_room(params.at("roomId"));
    if (room && (room->membership_of(requester.user_id) == "join" ||
                 room->membership_of(requester.user_id) == "invite")) {
      throw unknown_error(400, "User " + requester.user_id + " is in room " + params.at("roomId"));
    }
    return ApiResponse::json(200, nlohmann::json::object());
  });
}

}  // namespace mxsim
