// Client-server API: profiles (display name, avatar), account data
// (global and per room, e.g. m.direct) and stored sync filters.

#include "mxsim/errors.h"
#include "mxsim/homeserver.h"
#include "mxsim/membership.h"
#include "mxsim/routes.h"

namespace mxsim {

namespace {

void add_profile_routes(Homeserver& hs, Router& router) {
  // Synapse 1.67 (handlers/profile.py) reads its own table only: an
  // unknown user in an appservice's namespace is not queried here (events
  // about the user, such as an invite, are what make it ask).
  router.add_client("GET", "/profile/{userId}", [&hs](const ApiRequest&, const PathParams& params) {
    const std::string& user_id = params.at("userId");
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

}  // namespace

void add_client_profile_routes(Homeserver& hs, Router& router) {
  add_profile_routes(hs, router);
  add_account_data_routes(hs, router);
}

}  // namespace mxsim
