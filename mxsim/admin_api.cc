// Synapse admin API, accounts: server version, v2 user create/modify/query,
// listing, deactivation and suspension. Shapes follow Synapse 1.67
// (booleans as 0/1 in user objects). Rooms are in admin_rooms.cc, the
// per-user tools (login-as, rate-limit overrides) in admin_user_tools.cc.

#include <algorithm>

#include "mxsim/admin_common.h"
#include "mxsim/errors.h"
#include "mxsim/homeserver.h"
#include "mxsim/ids.h"
#include "mxsim/membership.h"
#include "mxsim/room_ops.h"
#include "mxsim/routes.h"

namespace mxsim {

namespace {

nlohmann::json nullable(const std::optional<std::string>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json();
}

nlohmann::json user_object(const HomeserverSettings& settings, const User& user) {
  nlohmann::json out = {{"name", user.user_id},
          {"displayname", nullable(user.displayname)},
          {"avatar_url", nullable(user.avatar_url)},
          {"threepids", user.threepids},
          {"external_ids", user.external_ids},
          {"is_guest", 0},
          {"admin", user.admin ? 1 : 0},
          {"deactivated", user.deactivated ? 1 : 0},
          {"shadow_banned", user.shadow_banned ? 1 : 0},
          {"erased", user.erased},
          {"creation_ts", user.creation_ts_ms / 1000},
          {"last_seen_ts", nlohmann::json()},
          {"appservice_id", user.appservice_id.empty() ? nlohmann::json() : nlohmann::json(user.appservice_id)},
          {"consent_server_notice_sent", nlohmann::json()},
          {"consent_version", nlohmann::json()},
          {"consent_ts", nlohmann::json()},
          {"user_type", nullable(user.user_type)}};
  // Synapse shows these only from the versions that have them (1.93, 1.114).
  if (settings.locked_flag) {
    out["locked"] = user.locked ? 1 : 0;
  }
  if (settings.suspend_api) {
    out["suspended"] = user.suspended ? 1 : 0;
  }
  return out;
}

nlohmann::json user_list_entry(const HomeserverSettings& settings, const User& user) {
  nlohmann::json out = {{"name", user.user_id},
          {"is_guest", 0},
          {"admin", user.admin ? 1 : 0},
          {"user_type", nullable(user.user_type)},
          {"deactivated", user.deactivated ? 1 : 0},
          {"shadow_banned", user.shadow_banned ? 1 : 0},
          {"erased", user.erased},
          {"displayname", nullable(user.displayname)},
          {"avatar_url", nullable(user.avatar_url)},
          {"creation_ts", user.creation_ts_ms},
          {"last_seen_ts", nlohmann::json()}};
  if (settings.locked_flag) {
    out["locked"] = user.locked ? 1 : 0;
  }
  return out;
}

/// Accepts true/false and Synapse 1.67's 0/1.
std::optional<bool> flag(const nlohmann::json& body, const char* key) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) {
    return std::nullopt;
  }
  if (it->is_boolean()) {
    return it->get<bool>();
  }
  if (it->is_number_integer() && (it->get<int>() == 0 || it->get<int>() == 1)) {
    return it->get<int>() == 1;
  }
  throw invalid_param(std::string("'") + key + "' parameter is not of type boolean");
}

void leave_all_rooms(ServerState& state, const std::string& user_id) {
  for (auto& [room_id, room] : state.rooms) {
    std::string membership = room->membership_of(user_id);
    if (membership == "join" || membership == "invite" || membership == "knock") {
      try {
        update_membership(state, *room, MembershipChange{user_id, user_id, "leave", std::nullopt, {}});
      } catch (const MatrixError&) {
        // Keep going: one room refusing must not stop the deactivation.
      }
    }
  }
}

void deactivate(ServerState& state, User& user, bool erase) {
  user.deactivated = true;
  user.password.clear();
  user.threepids = nlohmann::json::array();
  for (auto it = state.tokens.begin(); it != state.tokens.end();) {
    it = it->second.user_id == user.user_id ? state.tokens.erase(it) : std::next(it);
  }
  leave_all_rooms(state, user.user_id);
  user.account_data.clear();
  user.room_account_data.clear();
  if (erase) {
    user.erased = true;
    user.displayname.reset();
    user.avatar_url.reset();
  }
  state.advance_stream();
}

std::optional<std::string> string_field(const nlohmann::json& body, const char* key) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) {
    return std::nullopt;
  }
  if (!it->is_string()) {
    throw invalid_param(std::string("Invalid ") + key);
  }
  return it->get<std::string>();
}

ApiResponse put_user(Homeserver& hs, const ApiRequest& request, const std::string& user_id_param) {
  nlohmann::json body = request.json_object();
  auto lock = hs.write_lock();
  ServerState& state = hs.state();
  Requester requester = admin_requester(hs, request);
  std::string user_id =
      local_user_param(state, user_id_param, "This endpoint can only be used with local users");

  auto password = string_field(body, "password");
  if (password && password->size() > 512) {
    throw invalid_param("Invalid password");
  }
  auto displayname = string_field(body, "displayname");
  auto avatar_url = string_field(body, "avatar_url");
  auto admin = flag(body, "admin");
  auto deactivated = flag(body, "deactivated");
  auto locked = flag(body, "locked");
  bool logout_devices = flag(body, "logout_devices").value_or(true);
  if (body.contains("threepids") && !body["threepids"].is_array()) {
    throw invalid_param("threepids must be a list");
  }
  if (body.contains("external_ids") && !body["external_ids"].is_array()) {
    throw invalid_param("external_ids must be a list");
  }
  std::optional<std::optional<std::string>> user_type;
  if (body.contains("user_type")) {
    if (body["user_type"].is_null()) {
      user_type = std::optional<std::string>();
    } else if (body["user_type"].is_string() &&
               (body["user_type"] == "bot" || body["user_type"] == "support")) {
      user_type = body["user_type"].get<std::string>();
    } else {
      throw invalid_param("Invalid user type");
    }
  }

  User* user = state.find_user(user_id);
  bool created = false;
  if (!user) {
    auto parsed = parse_user_id(user_id);
    if (auto problem = localpart_problem(parsed->localpart, state.server_name)) {
      throw MatrixError(400, "M_INVALID_USERNAME", *problem);
    }
    if (state.exclusive_user_owner(user_id)) {
      throw MatrixError(400, "M_EXCLUSIVE", "This user ID is reserved by an application service.");
    }
    User fresh;
    fresh.user_id = user_id;
    fresh.creation_ts_ms = now_ms();
    fresh.displayname = displayname && !displayname->empty() ? *displayname : parsed->localpart;
    state.users[user_id] = std::move(fresh);
    user = &state.users[user_id];
    created = true;
  } else {
    if (admin && !*admin && user_id == requester.user_id) {
      throw unknown_error(400, "You may not demote yourself.");
    }
    if (deactivated && !*deactivated && user->deactivated && !password && user->password.empty()) {
      throw unknown_error(400, "Must provide a password to re-activate an account.");
    }
  }

  if (password) {
    user->password = *password;
    if (!created && logout_devices) {
      for (auto it = state.tokens.begin(); it != state.tokens.end();) {
        it = it->second.user_id == user_id ? state.tokens.erase(it) : std::next(it);
      }
    }
  }
  if (admin) {
    user->admin = *admin;
  }
  // Synapse before 1.93 accepts the field and ignores it.
  if (locked && hs.settings().locked_flag) {
    user->locked = *locked;
  }
  if (user_type) {
    user->user_type = *user_type;
  }
  if (body.contains("threepids")) {
    user->threepids = nlohmann::json::array();
    for (const auto& entry : body["threepids"]) {
      nlohmann::json copy = entry;
      copy["added_at"] = now_ms();
      copy["validated_at"] = now_ms();
      user->threepids.push_back(copy);
    }
  }
  if (body.contains("external_ids")) {
    user->external_ids = body["external_ids"];
  }
  bool profile_changed = false;
  if (!created && displayname) {
    std::optional<std::string> next = displayname->empty() ? std::nullopt : std::optional<std::string>(*displayname);
    profile_changed |= next != user->displayname;
    user->displayname = next;
  }
  if (avatar_url) {
    std::optional<std::string> next = avatar_url->empty() ? std::nullopt : std::optional<std::string>(*avatar_url);
    profile_changed |= next != user->avatar_url;
    user->avatar_url = next;
  }
  if (deactivated) {
    if (*deactivated && !user->deactivated) {
      deactivate(state, *user, false);
    } else if (!*deactivated && user->deactivated) {
      user->deactivated = false;
    }
  }
  state.advance_stream();
  if (profile_changed && !user->deactivated) {
    propagate_profile(state, user_id);
  }
  return ApiResponse::json(created ? 201 : 200, user_object(hs.settings(), *user));
}

std::optional<bool> query_bool(const ApiRequest& request, const std::string& name) {
  auto value = request.query_param(name);
  if (!value) {
    return std::nullopt;
  }
  if (*value == "true") {
    return true;
  }
  if (*value == "false") {
    return false;
  }
  throw invalid_param("Boolean query parameter " + name + " must be one of ['true', 'false']");
}

void add_user_routes(Homeserver& hs, Router& router) {
  router.add("GET", "/_synapse/admin/v1/server_version", [&hs](const ApiRequest&, const PathParams&) {
    return ApiResponse::json(200, {{"server_version", hs.settings().server_version}});
  });

  router.add("GET", "/_synapse/admin/v2/users/{userId}", [&hs](const ApiRequest& request, const PathParams& params) {
    auto lock = hs.read_lock();
    ServerState& state = hs.state();
    admin_requester(hs, request);
    std::string user_id = local_user_param(state, params.at("userId"), "Can only look up local users");
    User* user = state.find_user(user_id);
    if (!user) {
      throw not_found("User not found");
    }
    return ApiResponse::json(200, user_object(hs.settings(), *user));
  });

  router.add("PUT", "/_synapse/admin/v2/users/{userId}", [&hs](const ApiRequest& request, const PathParams& params) {
    return put_user(hs, request, params.at("userId"));
  });

  router.add("GET", "/_synapse/admin/v2/users", [&hs](const ApiRequest& request, const PathParams&) {
    auto lock = hs.read_lock();
    ServerState& state = hs.state();
    admin_requester(hs, request);
    int from = query_int(request, "from", 0);
    int limit = query_int(request, "limit", 100);
    bool include_deactivated = query_bool(request, "deactivated").value_or(false);
    std::optional<bool> admins = query_bool(request, "admins");
    std::string name = request.query_param("name").value_or("");
    std::string user_id_filter = request.query_param("user_id").value_or("");
    std::vector<const User*> selected;
    for (const auto& [id, user] : state.users) {
      if (user.deactivated && !include_deactivated) {
        continue;
      }
      if (admins && user.admin != *admins) {
        continue;
      }
      if (!name.empty()) {
        std::string localpart = parse_user_id(id)->localpart;
        bool hit = localpart.find(name) != std::string::npos ||
                   (user.displayname && user.displayname->find(name) != std::string::npos);
        if (!hit) {
          continue;
        }
      } else if (!user_id_filter.empty() && id.find(user_id_filter) == std::string::npos) {
        continue;
      }
      selected.push_back(&user);
    }
    if (request.query_param("dir").value_or("f") == "b") {
      std::reverse(selected.begin(), selected.end());
    }
    nlohmann::json users = nlohmann::json::array();
    for (size_t i = static_cast<size_t>(from); i < selected.size() && users.size() < static_cast<size_t>(limit); ++i) {
      users.push_back(user_list_entry(hs.settings(), *selected[i]));
    }
    nlohmann::json body = {{"users", users}, {"total", selected.size()}};
    if (static_cast<size_t>(from) + users.size() < selected.size()) {
      body["next_token"] = std::to_string(from + static_cast<int>(users.size()));
    }
    return ApiResponse::json(200, body);
  });

  router.add("POST", "/_synapse/admin/v1/deactivate/{userId}", [&hs](const ApiRequest& request, const PathParams& params) {
    nlohmann::json body = request.json_object(true);
    auto lock = hs.write_lock();
    ServerState& state = hs.state();
    admin_requester(hs, request);
    std::string user_id = local_user_param(state, params.at("userId"), "Can only deactivate local users");
    if (body.contains("erase") && !body["erase"].is_boolean()) {
      throw bad_json("Param 'erase' must be a boolean, if given");
    }
    User* user = state.find_user(user_id);
    if (!user) {
      throw not_found("User not found");
    }
    deactivate(state, *user, body.value("erase", false));
    return ApiResponse::json(200, {{"id_server_unbind_result", "success"}});
  });

  router.add("PUT", "/_synapse/admin/v1/suspend/{userId}", [&hs](const ApiRequest& request, const PathParams& params) {
    if (!hs.settings().suspend_api) {
      throw MatrixError(400, "M_UNRECOGNIZED", "Unrecognized request");
    }
    nlohmann::json body = request.json_object();
    auto lock = hs.write_lock();
    ServerState& state = hs.state();
    admin_requester(hs, request);
    std::string user_id = local_user_param(state, params.at("userId"), "Only local users can be suspended.");
    if (!body.contains("suspend") || !body["suspend"].is_boolean()) {
      throw bad_json("'suspend' parameter value must be a boolean");
    }
    User* user = state.find_user(user_id);
    if (!user) {
      throw not_found("User " + user_id + " not found.");
    }
    user->suspended = body["suspend"].get<bool>();
    state.advance_stream();
    return ApiResponse::json(200, {{"user_" + user_id + "_suspended", user->suspended}});
  });

}

}  // namespace

void add_admin_routes(Homeserver& hs, Router& router) {
  add_user_routes(hs, router);
  add_admin_user_tool_routes(hs, router);
  add_admin_room_routes(hs, router);
}

}  // namespace mxsim
