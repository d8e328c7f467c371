// Client-server API, account side: versions, login/logout, appservice
// registration, whoami, profiles, account data, filters and the room
// alias directory.

#include <algorithm>

#include "tests/mxsim/auth_rules.h"
#include "tests/mxsim/errors.h"
#include "tests/mxsim/homeserver.h"
#include "tests/mxsim/ids.h"
#include "tests/mxsim/membership.h"
#include "tests/mxsim/room_ops.h"
#include "tests/mxsim/routes.h"

namespace mxsim {

namespace {

bool can_send_state(const Room& room, const std::string& user_id, const std::string& type) {
  return user_power_level(room, user_id) >= send_level(room, type, true);
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

/// The user id a login names: "@x:server" as given, a bare localpart qualified (lower-cased).
std::string login_user_id(ServerState& state, const nlohmann::json& body) {
  std::string user;
  if (body.contains("identifier") && body["identifier"].is_object()) {
    const auto& identifier = body["identifier"];
    if (identifier.value("type", "") != "m.id.user") {
      throw unknown_error(400, "Unknown login identifier type");
    }
    if (!identifier.contains("user") || !identifier["user"].is_string()) {
      throw missing_param("User identifier is missing 'user' key");
    }
    user = identifier["user"].get<std::string>();
  } else if (body.contains("user") && body["user"].is_string()) {
    user = body["user"].get<std::string>();
  } else {
    throw missing_param("Missing JSON keys.");
  }
  if (!user.empty() && user[0] == '@') {
    return user;
  }
  return state.local_user_id(lower(user));
}

nlohmann::json login_answer(ServerState& state, const std::string& user_id, const std::string& token,
                            const std::string& device_id) {
  return {{"user_id", user_id}, {"access_token", token}, {"device_id", device_id}, {"home_server", state.server_name}};
}

/// Sends fresh join events carrying the new profile into every joined room,
/// as Synapse does after a displayname or avatar change.
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

void add_profile_routes(Homeserver& hs, Router& router) {
  router.add_client("GET", "/profile/{userId}", [&hs](const ApiRequest&, const PathParams& params) {
    const std::string& user_id = params.at("userId");
    std::optional<AppService> query_target;
    {
      auto lock = hs.read_lock();
      ServerState& state = hs.state();
      if (User* user = state.find_user(user_id)) {
        nlohmann::json body = nlohmann::json::object();
        if (user->displayname) {
          body["displayname"] = *user->displayname;
        }
        if (user->avatar_url) {
          body["avatar_url"] = *user->avatar_url;
        }
        return ApiResponse::json(200, body);
      }
      for (const auto& service : state.appservices) {
        if (service.interested_in_user(user_id, state.server_name) && !service.url.empty()) {
          query_target = service;
          break;
        }
      }
    }
    if (query_target && hs.appservice_client().query_user(*query_target, user_id)) {
      auto lock = hs.read_lock();
      if (User* user = hs.state().find_user(user_id)) {
        nlohmann::json body = nlohmann::json::object();
        if (user->displayname) {
          body["displayname"] = *user->displayname;
        }
        if (user->avatar_url) {
          body["avatar_url"] = *user->avatar_url;
        }
        return ApiResponse::json(200, body);
      }
    }
    throw not_found("Profile was not found");
  });

  for (std::string field : {"displayname", "avatar_url"}) {
    router.add_client("GET", "/profile/{userId}/" + field, [&hs, field](const ApiRequest&, const PathParams& params) {
      auto lock = hs.read_lock();
      User* user = hs.state().find_user(params.at("userId"));
      if (!user) {
        throw not_found("Profile was not found");
      }
      const auto& value = field == "displayname" ? user->displayname : user->avatar_url;
      nlohmann::json body = nlohmann::json::object();
      if (value) {
        body[field] = *value;
      }
      return ApiResponse::json(200, body);
    });

    router.add_client("PUT", "/profile/{userId}/" + field, [&hs, field](const ApiRequest& request, const PathParams& params) {
      nlohmann::json body = request.json_object();
      auto lock = hs.write_lock();
      ServerState& state = hs.state();
      Requester requester = authenticate(state, request);
      const std::string& user_id = params.at("userId");
      if (user_id != requester.user_id && !requester.admin) {
        throw unknown_error(400, "Cannot set another user's " + field);
      }
      User* user = state.find_user(user_id);
      if (!user) {
        throw not_found("Profile was not found");
      }
      if (user->suspended) {
        throw user_suspended("Updating " + field + " while account is suspended is not permitted");
      }
      if (!body.contains(field)) {
        throw missing_param("Missing key '" + field + "'");
      }
      const auto& value = body[field];
      if (!value.is_string() && !value.is_null()) {
        throw bad_json("'" + field + "' must be a string");
      }
      std::string text = value.is_string() ? value.get<std::string>() : "";
      if (field == "displayname" && text.size() > 256) {
        throw unknown_error(400, "Displayname is too long (max 256)");
      }
      if (field == "avatar_url" && text.size() > 1000) {
        throw unknown_error(400, "Avatar URL is too long (max 1000)");
      }
      auto& slot = field == "displayname" ? user->displayname : user->avatar_url;
      std::optional<std::string> next = text.empty() ? std::nullopt : std::optional<std::string>(text);
      if (slot != next) {
        slot = next;
        state.advance_stream();
        propagate_profile(state, user_id);
      }
      return ApiResponse::json(200, nlohmann::json::object());
    });
  }
}

void add_account_data_routes(Homeserver& hs, Router& router) {
  router.add_client("PUT", "/user/{userId}/account_data/{type}", [&hs](const ApiRequest& request, const PathParams& params) {
    nlohmann::json body = request.json_object();
    auto lock = hs.write_lock();
    ServerState& state = hs.state();
    Requester requester = authenticate(state, request);
    if (params.at("userId") != requester.user_id) {
      throw forbidden("Cannot add account data for other users.");
    }
    const std::string& type = params.at("type");
    if (type == "m.fully_read" || type == "m.push_rules") {
      throw bad_json("Cannot set " + type + " through this API");
    }
    User* user = state.find_user(requester.user_id);
    user->account_data[type] = body;
    user->account_data_stream[type] = state.advance_stream();
    return ApiResponse::json(200, nlohmann::json::object());
  });

  router.add_client("GET", "/user/{userId}/account_data/{type}", [&hs](const ApiRequest& request, const PathParams& params) {
    auto lock = hs.read_lock();
    ServerState& state = hs.state();
    Requester requester = authenticate(state, request);
    if (params.at("userId") != requester.user_id) {
      throw forbidden("Cannot get account data for other users.");
    }
    User* user = state.find_user(requester.user_id);
    auto it = user->account_data.find(params.at("type"));
    if (it == user->account_data.end()) {
      throw not_found("Account data not found");
    }
    return ApiResponse::json(200, it->second);
  });

  router.add_client("PUT", "/user/{userId}/rooms/{roomId}/account_data/{type}",
                    [&hs](const ApiRequest& request, const PathParams& params) {
                      nlohmann::json body = request.json_object();
                      auto lock = hs.write_lock();
                      ServerState& state = hs.state();
                      Requester requester = authenticate(state, request);
                      if (params.at("userId") != requester.user_id) {
                        throw forbidden("Cannot add account data for other users.");
                      }
                      if (!state.find_room(params.at("roomId"))) {
                        throw invalid_param(params.at("roomId") + " is not a valid room ID");
                      }
                      User* user = state.find_user(requester.user_id);
                      user->room_account_data[params.at("roomId")][params.at("type")] = body;
                      state.advance_stream();
                      return ApiResponse::json(200, nlohmann::json::object());
                    });

  router.add_client("GET", "/user/{userId}/rooms/{roomId}/account_data/{type}",
                    [&hs](const ApiRequest& request, const PathParams& params) {
                      auto lock = hs.read_lock();
                      ServerState& state = hs.state();
                      Requester requester = authenticate(state, request);
                      if (params.at("userId") != requester.user_id) {
                        throw forbidden("Cannot get account data for other users.");
                      }
                      User* user = state.find_user(requester.user_id);
                      auto room = user->room_account_data.find(params.at("roomId"));
                      if (room == user->room_account_data.end() || !room->second.count(params.at("type"))) {
                        throw not_found("Room account data not found");
                      }
                      return ApiResponse::json(200, room->second.at(params.at("type")));
                    });

  router.add_client("POST", "/user/{userId}/filter", [&hs](const ApiRequest& request, const PathParams& params) {
    nlohmann::json body = request.json_object();
    auto lock = hs.write_lock();
    ServerState& state = hs.state();
    Requester requester = authenticate(state, request);
    if (params.at("userId") != requester.user_id) {
      throw forbidden("Can only create filters for local users");
    }
    std::string filter_id = std::to_string(state.next_filter_id++);
    state.filters[requester.user_id + '\n' + filter_id] = body;
    ++state.revision;
    return ApiResponse::json(200, {{"filter_id", filter_id}});
  });

  router.add_client("GET", "/user/{userId}/filter/{filterId}", [&hs](const ApiRequest& request, const PathParams& params) {
    auto lock = hs.read_lock();
    ServerState& state = hs.state();
    Requester requester = authenticate(state, request);
    if (params.at("userId") != requester.user_id) {
      throw forbidden("Cannot get filters for other users");
    }
    auto it = state.filters.find(requester.user_id + '\n' + params.at("filterId"));
    if (it == state.filters.end()) {
      throw not_found("No such filter");
    }
    return ApiResponse::json(200, it->second);
  });
}

void add_directory_routes(Homeserver& hs, Router& router) {
  router.add_client("GET", "/directory/room/{roomAlias}", [&hs](const ApiRequest&, const PathParams& params) {
    const std::string& alias = params.at("roomAlias");
    if (!parse_room_alias(alias)) {
      throw invalid_param("Expected room alias, got " + alias);
    }
    std::optional<AppService> query_target;
    {
      auto lock = hs.read_lock();
      ServerState& state = hs.state();
      auto it = state.aliases.find(alias);
      if (it != state.aliases.end()) {
        return ApiResponse::json(200, {{"room_id", it->second.room_id}, {"servers", {state.server_name}}});
      }
      for (const auto& service : state.appservices) {
        if (service.interested_in_alias(alias) && !service.url.empty()) {
          query_target = service;
          break;
        }
      }
    }
    // Outside the lock: the appservice creates the room through our own API.
    if (query_target && hs.appservice_client().query_alias(*query_target, alias)) {
      auto lock = hs.read_lock();
      ServerState& state = hs.state();
      auto it = state.aliases.find(alias);
      if (it != state.aliases.end()) {
        return ApiResponse::json(200, {{"room_id", it->second.room_id}, {"servers", {state.server_name}}});
      }
    }
    throw not_found("Room alias " + alias + " not found");
  });

  router.add_client("PUT", "/directory/room/{roomAlias}", [&hs](const ApiRequest& request, const PathParams& params) {
    nlohmann::json body = request.json_object();
    auto lock = hs.write_lock();
    ServerState& state = hs.state();
    Requester requester = authenticate(state, request);
    const std::string& alias = params.at("roomAlias");
    auto parsed = parse_room_alias(alias);
    if (!parsed || !is_valid_alias_localpart(parsed->localpart)) {
      throw invalid_param("Room alias invalid");
    }
    if (parsed->server != state.server_name) {
      throw unknown_error(400, "Room alias must be local");
    }
    if (!body.contains("room_id") || !body["room_id"].is_string()) {
      throw missing_param("Missing parameter: room_id");
    }
    std::string room_id = body["room_id"].get<std::string>();
    if (!requester.appservice_id.empty()) {
      const AppService* service = state.appservice_by_id(requester.appservice_id);
      if (service && !service->interested_in_alias(alias)) {
        throw MatrixError(400, "M_EXCLUSIVE", "This application service has not reserved this kind of alias.");
      }
    } else if (state.exclusive_alias_owner(alias)) {
      throw MatrixError(400, "M_EXCLUSIVE", "This alias is reserved by an application service.");
    }
    Room* room = state.find_room(room_id);
    if (!room || room->membership_of(requester.user_id) != "join") {
      throw forbidden("You must be in the room to create an alias for it");
    }
    if (state.aliases.count(alias)) {
      throw MatrixError(409, "M_UNKNOWN", "Room alias " + alias + " already exists");
    }
    state.aliases[alias] = AliasEntry{room_id, requester.user_id};
    state.advance_stream();
    return ApiResponse::json(200, nlohmann::json::object());
  });

  router.add_client("DELETE", "/directory/room/{roomAlias}", [&hs](const ApiRequest& request, const PathParams& params) {
    auto lock = hs.write_lock();
    ServerState& state = hs.state();
    Requester requester = authenticate(state, request);
    const std::string& alias = params.at("roomAlias");
    auto it = state.aliases.find(alias);
    if (it == state.aliases.end()) {
      throw not_found("Room alias " + alias + " not found");
    }
    bool allowed = it->second.creator == requester.user_id || requester.admin;
    if (!allowed) {
      if (Room* room = state.find_room(it->second.room_id)) {
        allowed = room->membership_of(requester.user_id) == "join" &&
                  can_send_state(*room, requester.user_id, "m.room.canonical_alias");
      }
    }
    if (!allowed) {
      throw forbidden("You don't have permission to delete the alias.");
    }
    remove_alias(state, alias, requester.user_id);
    return ApiResponse::json(200, nlohmann::json::object());
  });

  router.add_client("GET", "/directory/list/room/{roomId}", [&hs](const ApiRequest&, const PathParams& params) {
    auto lock = hs.read_lock();
    Room* room = hs.state().find_room(params.at("roomId"));
    if (!room) {
      throw not_found("Unknown room");
    }
    return ApiResponse::json(200, {{"visibility", room->published() ? "public" : "private"}});
  });

  router.add_client("PUT", "/directory/list/room/{roomId}", [&hs](const ApiRequest& request, const PathParams& params) {
    nlohmann::json body = request.json_object(true);
    auto lock = hs.write_lock();
    ServerState& state = hs.state();
    Requester requester = authenticate(state, request);
    Room* room = state.find_room(params.at("roomId"));
    if (!room) {
      throw not_found("Unknown room");
    }
    if (!requester.admin && !(room->membership_of(requester.user_id) == "join" &&
                              can_send_state(*room, requester.user_id, "m.room.canonical_alias"))) {
      throw forbidden("This user is not permitted to publish rooms to the room list");
    }
    std::string visibility = body.value("visibility", "public");
    if (visibility != "public" && visibility != "private") {
      throw invalid_param("Invalid visibility value");
    }
    room->set_published(visibility == "public");
    state.advance_stream();
    return ApiResponse::json(200, nlohmann::json::object());
  });
}

}  // namespace

void add_client_account_routes(Homeserver& hs, Router& router) {
  router.add("GET", "/_matrix/client/versions", [](const ApiRequest&, const PathParams&) {
    return ApiResponse::json(200, {{"versions", {"r0.5.0", "r0.6.0", "r0.6.1", "v1.1", "v1.2", "v1.3", "v1.4", "v1.5"}},
                                   {"unstable_features", nlohmann::json::object()}});
  });

  router.add_client("GET", "/login", [](const ApiRequest&, const PathParams&) {
    return ApiResponse::json(
        200, {{"flows", {{{"type", "m.login.password"}}, {{"type", "m.login.application_service"}}}}});
  });

  router.add_client("POST", "/login", [&hs](const ApiRequest& request, const PathParams&) {
    nlohmann::json body = request.json_object();
    auto lock = hs.write_lock();
    ServerState& state = hs.state();
    if (!body.contains("type") || !body["type"].is_string()) {
      throw missing_param("Missing JSON keys.");
    }
    std::string type = body["type"].get<std::string>();
    std::string device_id = body.contains("device_id") && body["device_id"].is_string()
                                ? body["device_id"].get<std::string>()
                                : random_string(10);
    if (type == "m.login.password") {
      std::string user_id = login_user_id(state, body);
      if (!body.contains("password") || !body["password"].is_string()) {
        throw missing_param("Missing parameter: password");
      }
      User* user = state.find_user(user_id);
      if (user && user->deactivated) {
        throw MatrixError(403, "M_USER_DEACTIVATED", "This account has been deactivated");
      }
      if (!user || user->password.empty() || user->password != body["password"].get<std::string>()) {
        throw forbidden("Invalid username or password");
      }
      if (user->locked) {
        throw MatrixError(401, "M_USER_LOCKED", "User account has been locked", {{"soft_logout", true}});
      }
      std::string token = state.mint_token(user_id, device_id);
      return ApiResponse::json(200, login_answer(state, user_id, token, device_id));
    }
    if (type == "m.login.application_service") {
      std::optional<std::string> token = request.access_token();
      if (!token) {
        throw MatrixError(401, "M_MISSING_TOKEN", "Missing access token.");
      }
      const AppService* service = state.appservice_by_token(*token);
      if (!service) {
        throw MatrixError(401, "M_UNKNOWN_TOKEN", "Unrecognised appservice access token.", {{"soft_logout", false}});
      }
      std::string user_id = login_user_id(state, body);
      if (!service->interested_in_user(user_id, state.server_name)) {
        throw MatrixError(403, "M_EXCLUSIVE", "Invalid access_token");
      }
      User* user = state.find_user(user_id);
      if (!user || user->deactivated) {
        throw forbidden("Invalid username or password");
      }
      std::string minted = state.mint_token(user_id, device_id);
      return ApiResponse::json(200, login_answer(state, user_id, minted, device_id));
    }
    throw unknown_error(400, "Unknown login type " + type);
  });

  router.add_client("POST", "/logout", [&hs](const ApiRequest& request, const PathParams&) {
    auto lock = hs.write_lock();
    ServerState& state = hs.state();
    Requester requester = authenticate(state, request);
    state.tokens.erase(requester.token);
    ++state.revision;
    return ApiResponse::json(200, nlohmann::json::object());
  });

  router.add_client("POST", "/logout/all", [&hs](const ApiRequest& request, const PathParams&) {
    auto lock = hs.write_lock();
    ServerState& state = hs.state();
    Requester requester = authenticate(state, request);
    for (auto it = state.tokens.begin(); it != state.tokens.end();) {
      it = it->second.user_id == requester.user_id ? state.tokens.erase(it) : std::next(it);
    }
    ++state.revision;
    return ApiResponse::json(200, nlohmann::json::object());
  });

  router.add_client("POST", "/register", [&hs](const ApiRequest& request, const PathParams&) {
    nlohmann::json body = request.json_object(true);
    auto lock = hs.write_lock();
    ServerState& state = hs.state();
    std::string kind = request.query_param("kind").value_or("user");
    if (kind == "guest") {
      throw forbidden("Guest access is disabled");
    }
    if (kind != "user") {
      throw MatrixError(400, "M_UNRECOGNIZED", "Do not understand membership kind: " + kind);
    }
    if (body.value("type", "") == "m.login.application_service") {
      std::optional<std::string> token = request.access_token();
      if (!token) {
        throw unknown_error(400, "Appservice token must be provided when using a type of m.login.application_service");
      }
      const AppService* service = state.appservice_by_token(*token);
      if (!service) {
        throw MatrixError(401, "M_UNKNOWN_TOKEN", "Unrecognised appservice access token.", {{"soft_logout", false}});
      }
      nlohmann::json username = body.contains("user") ? body["user"] : body.value("username", nlohmann::json());
      if (!username.is_string()) {
        throw unknown_error(400, "Desired Username is missing or not a string");
      }
      std::string localpart = username.get<std::string>();
      if (auto problem = localpart_problem(localpart, state.server_name)) {
        throw MatrixError(400, "M_INVALID_USERNAME", *problem);
      }
      std::string user_id = state.local_user_id(localpart);
      if (!service->interested_in_user(user_id, state.server_name)) {
        throw MatrixError(400, "M_EXCLUSIVE", "Invalid user localpart for this application service.");
      }
      for (const auto& other : state.appservices) {
        if (other.id != service->id && other.exclusive_user(user_id)) {
          throw MatrixError(400, "M_EXCLUSIVE", "This user ID is reserved by an application service.");
        }
      }
      if (state.find_user(user_id)) {
        throw MatrixError(400, "M_USER_IN_USE", "User ID already taken.");
      }
      User user;
      user.user_id = user_id;
      user.appservice_id = service->exclusive_user(user_id) ? service->id : "";
      user.creation_ts_ms = now_ms();
      user.displayname = localpart;
      state.users[user_id] = std::move(user);
      state.advance_stream();
      nlohmann::json answer = {{"user_id", user_id}, {"home_server", state.server_name}};
      if (!body.value("inhibit_login", false)) {
        std::string device_id = body.value("device_id", random_string(10));
        answer["device_id"] = device_id;
        answer["access_token"] = state.mint_token(user_id, device_id);
      }
      return ApiResponse::json(200, answer);
    }
    if (request.access_token()) {
      throw unknown_error(400, "An access token should not be provided on requests to /register (except if "
                               "using an Application Service)");
    }
    throw forbidden("Registration has been disabled");
  });

  router.add_client("GET", "/register/available", [&hs](const ApiRequest& request, const PathParams&) {
    auto lock = hs.read_lock();
    ServerState& state = hs.state();
    std::string localpart = request.query_param("username").value_or("");
    if (auto problem = localpart_problem(localpart, state.server_name)) {
      throw MatrixError(400, "M_INVALID_USERNAME", *problem);
    }
    std::string user_id = state.local_user_id(localpart);
    if (state.exclusive_user_owner(user_id)) {
      throw MatrixError(400, "M_EXCLUSIVE", "This user ID is reserved by an application service.");
    }
    if (state.find_user(user_id)) {
      throw MatrixError(400, "M_USER_IN_USE", "User ID already taken.");
    }
    return ApiResponse::json(200, {{"available", true}});
  });

  router.add_client("GET", "/account/whoami", [&hs](const ApiRequest& request, const PathParams&) {
    auto lock = hs.read_lock();
    Requester requester = authenticate(hs.state(), request);
    nlohmann::json body = {{"user_id", requester.user_id}, {"is_guest", false}};
    if (!requester.device_id.empty()) {
      body["device_id"] = requester.device_id;
    }
    return ApiResponse::json(200, body);
  });

  router.add_client("GET", "/capabilities", [&hs](const ApiRequest& request, const PathParams&) {
    auto lock = hs.read_lock();
    authenticate(hs.state(), request);
    nlohmann::json versions = nlohmann::json::object();
    for (int v = 1; v <= 11; ++v) {
      versions[std::to_string(v)] = "stable";
    }
    return ApiResponse::json(
        200, {{"capabilities",
               {{"m.room_versions", {{"default", hs.settings().default_room_version}, {"available", versions}}},
                {"m.change_password", {{"enabled", true}}},
                {"m.set_displayname", {{"enabled", true}}},
                {"m.set_avatar_url", {{"enabled", true}}}}}});
  });

  add_profile_routes(hs, router);
  add_account_data_routes(hs, router);
  add_directory_routes(hs, router);
}

}  // namespace mxsim
