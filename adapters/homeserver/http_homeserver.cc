#include "adapters/homeserver/http_homeserver.h"

#include "adapters/build_identity.h"
#include "adapters/homeserver/account_provisioning.h"
#include "adapters/homeserver/answer_shape.h"
#include "adapters/homeserver/api_paths.h"
#include "adapters/homeserver/error_context.h"
#include "adapters/homeserver/event_shape.h"
#include "adapters/homeserver/own_creation.h"
#include "adapters/homeserver/room_creators.h"
#include "adapters/homeserver/room_events.h"
#include "adapters/homeserver/room_state_reader.h"
#include "model/naming.h"
#include "model/state_codec.h"

namespace adapters {

namespace {

// A write's answer that carries what the spec requires: `{event_id}` for a
// state event or a message. An empty 200 there is a proxy's or a broken
// server's, not a sign the event was made.
model::Result<void> check_event_id(const std::string& method, const std::string& path, const nlohmann::json& body) {
  Answer answer(method, path, body);
  if (auto id = answer.field(body, "", "event_id", JsonType::string); !id) {
    return tl::unexpected(id.error());
  }
  return {};
}

// The marker's content, as GET /rooms/{id}/state/{type}/ answers it: an
// object; its key and instance are what some room's creator wrote (odd
// values there mean "not ours", not a broken server).
model::Result<std::pair<std::string, std::string>> marker_of(const std::string& path, const nlohmann::json& body) {
  Answer answer("GET", path, body);
  if (auto object = answer.body(JsonType::object); !object) {
    return tl::unexpected(object.error());
  }
  auto text = [&](const char* name) {
    auto it = body.find(name);
    return it != body.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  return std::make_pair(text("key"), text("instance"));
}

}  // namespace

ClientOptions client_options(const model::Settings& settings, std::chrono::steady_clock::time_point pass_started) {
  constexpr std::uint64_t k_mb = 1024 * 1024;
  ClientOptions options;
  options.read_timeout = std::chrono::seconds(settings.read_timeout_seconds);
  options.limits.max_bytes = static_cast<std::uint64_t>(settings.max_answer_megabytes) * k_mb;
  options.limits.deadline = std::chrono::seconds(settings.request_timeout_seconds);
  options.large_limits.max_bytes = static_cast<std::uint64_t>(settings.max_sync_answer_megabytes) * k_mb;
  options.large_limits.deadline = std::chrono::seconds(settings.sync_timeout_seconds);
  options.deadline = pass_started + std::chrono::minutes(settings.pass_timeout_minutes);
  options.ca_file = settings.ca_file;
  return options;
}

HttpHomeserver::HttpHomeserver(model::Settings settings, std::string access_token, ClientOptions options)
    : m_settings(std::move(settings)),
      m_read_basis(build_identity().empty() ? "" : build_identity() + model::encode_settings(m_settings)),
      m_client(m_settings.homeserver_url, std::move(access_token), options) {}

model::Result<OperationOutcome> HttpHomeserver::adopt_existing(const model::Room& room, bool may_be_ours) {
  const std::string action = "create room " + room.key + " (M_ROOM_IN_USE)";
  const std::string directory_path = api::k_client + "/directory/room/" + encode_path_segment(room.alias);
  auto resolved = m_client.get(directory_path);
  if (!resolved) {
    return failed(resolved.error(), action + ": the alias is taken but cannot be resolved");
  }
  auto room_id_field = Answer("GET", directory_path, *resolved).string(*resolved, "", "room_id");
  if (!room_id_field) {
    return failed(room_id_field.error(), action + ": the alias is taken but cannot be resolved");
  }
  const std::string room_id = *room_id_field;
  const std::string marker_path = api::k_client + "/rooms/" + encode_path_segment(room_id) + "/state/" +
                                  encode_path_segment(m_settings.marker_event_type) + "/";
  auto marker_answer = m_client.get(marker_path);
  model::Result<std::pair<std::string, std::string>> marker = model::fail(model::Error::Kind::not_found, "");
  if (marker_answer) {
    marker = marker_of(marker_path, *marker_answer);
    if (!marker) {
      return failed(marker.error(), action);
    }
  }
  if (marker && marker->first == room.key && marker->second == m_settings.instance) {
    // Our own room from an earlier, interrupted attempt: adopt it.
    return OperationOutcome{room_id, true};
  }
  if (may_be_ours) {
    // An earlier attempt may have made it, and Synapse registers the alias
    // before the marker is readable: wait for the marker before refusing.
    auto check = await_own_room(m_client, room_id, room.key, m_settings, m_creation_wait);
    if (!check) {
      return model::fail(check.error().kind, action + ": " + check.error().message);
    }
    if (check->verdict == CreationCheck::Verdict::ours) {
      return OperationOutcome{room_id, true};
    }
    return model::fail(model::Error::Kind::conflict, action + ": alias " + room.alias + " belongs to room " +
                                                         room_id + " (" + check->why +
                                                         "); mxctl will not take it over");
  }
  std::string why = ", which has no mxctl marker";
  if (marker) {
    why = ", which is marked as \"" + marker->first + "\" of instance \"" + marker->second + "\"";
  } else if (marker_answer.error().error.kind != model::Error::Kind::not_found) {
    why = ", whose marker cannot be read (" + marker_answer.error().error.message + ")";
  }
  return model::fail(model::Error::Kind::conflict, action + ": alias " + room.alias + " belongs to room " + room_id +
                                                       why + "; mxctl will not take it over");
}

model::Result<OperationOutcome> HttpHomeserver::create_room(const model::Operation& operation, const model::Room& room,
                                                            const ExecutionContext& context) {
  auto body = create_room_body(room, context.room_ids, m_settings);
  if (!body) {
    return model::fail(body.error().kind, "create room " + room.key + ": " + body.error().message);
  }
  // Room version 12: the creator (the bot) has unlimited power and must not
  // be listed in power levels, or the homeserver refuses the room.
  if (creators_have_unlimited_power(room.room_version)) {
    leave_out_creators((*body)["power_level_content_override"], {m_settings.bot_user_id});
  }
  // Whether mxctl may already have made this room: its journal says an
  // earlier pass tried, or this process did (a request that timed out).
  bool may_be_ours = false;
  {
    std::lock_guard<std::mutex> lock(m_creation_mutex);
    may_be_ours = !m_rooms_created.insert(room.key).second;
  }
  if (!operation.invitees.empty()) {
    (*body)["invite"] = operation.invitees;
  }
  auto created = m_client.post(api::k_client + "/createRoom", *body);
  bool invited = !operation.invitees.empty();
  if (!created && invited && refused_invite_count(created.error())) {
    // This server's invite burst is below what the plan folded in: the room
    // is made without its invites (Synapse checks before making anything),
    // and they follow one by one.
    body->erase("invite");
    invited = false;
    created = m_client.post(api::k_client + "/createRoom", *body);
  }
  if (!created) {
    // The alias is the idempotency key: after a retry or a crash the room may
    // already exist. Look before failing.
    if (created.error().error.errcode == "M_ROOM_IN_USE") {
      auto adopted = adopt_existing(room, may_be_ours);
      // The operation's own answer was M_ROOM_IN_USE; what went wrong after
      // it (a directory or marker read) is in the message.
      if (!adopted) {
        adopted.error().errcode = "M_ROOM_IN_USE";
        return adopted;
      }
      // Whether the earlier attempt's invites went out is unknown; they are
      // repeated (an invite to a member is answered as done).
      if (auto sent = invite_each(operation, room, *adopted->room_id); !sent) {
        return tl::unexpected(sent.error());
      }
      return adopted;
    }
    return failed(created.error(), "create room " + room.key);
  }
  // The room id is what every later write to the room needs.
  auto room_id = Answer("POST", api::k_client + "/createRoom", *created).string(*created, "", "room_id");
  if (!room_id) {
    return failed(room_id.error(), "create room " + room.key);
  }
  if (!invited) {
    if (auto sent = invite_each(operation, room, *room_id); !sent) {
      return tl::unexpected(sent.error());
    }
  }
  return OperationOutcome{*room_id, false};
}

bool HttpHomeserver::refused_invite_count(const MatrixFailure& failure) {
  return failure.status == 400 && failure.error.message.find("Cannot invite so many users at once") != std::string::npos;
}

model::Result<void> HttpHomeserver::invite_each(const model::Operation& create, const model::Room& room,
                                               const std::string& room_id) {
  for (const std::string& user : create.invitees) {
    auto invited =
        change_membership(room_id, room, user, true, "create room " + create.room_key + ": invite " + user);
    if (!invited) {
      return tl::unexpected(invited.error());
    }
  }
  return {};
}

model::Result<OperationOutcome> HttpHomeserver::membership(const model::Operation& operation, const model::Room& room,
                                                           const ExecutionContext& context) {
  auto room_id = context.room_ids.find(operation.room_key);
  if (room_id == context.room_ids.end()) {
    return model::fail(model::Error::Kind::not_found, model::describe(operation) + ": room id unknown");
  }
  const bool invite = operation.kind == model::Operation::Kind::invite;
  // forceJoin: local users are joined by the admin API instead of invited
  // (remote users, such as linked accounts elsewhere, can only be invited).
  const std::string local_suffix = ":" + m_settings.server_name;
  if (invite && m_settings.force_join && operation.user_id.ends_with(local_suffix)) {
    nlohmann::json body = {{"user_id", operation.user_id}};
    auto joined = m_client.post(api::k_admin_v1 + "/join/" + encode_path_segment(room_id->second), body);
    if (!joined) {
      return failed(joined.error(), "join " + operation.user_id + " to " + operation.room_key);
    }
    if (m_own_writes != nullptr) {  // the user joins, as themselves
      m_own_writes->add_membership(room_id->second, operation.user_id, operation.user_id, "join");
    }
    return OperationOutcome{};
  }
  return change_membership(room_id->second, room, operation.user_id, invite, model::describe(operation));
}

model::Result<OperationOutcome> HttpHomeserver::change_membership(const std::string& room_id,
                                                                  const model::Room& room,
                                                                  const std::string& user_id, bool invite,
                                                                  const std::string& description) {
  const std::string room_path = api::k_client + "/rooms/" + encode_path_segment(room_id);
  MatrixClient::Response result;
  if (invite && room.is_direct) {
    // /invite takes no content: is_direct, which makes clients show the
    // invite as a direct chat, goes in the member event itself. Synapse
    // routes this through its membership handler, like /invite; the same
    // event again is answered with the first one's id.
    const std::string path = room_path + "/state/m.room.member/" + encode_path_segment(user_id);
    result = m_client.put(path, {{"membership", "invite"}, {"is_direct", true}});
    if (result) {
      if (auto event = check_event_id("PUT", path, *result); !event) {
        return failed(event.error(), description);
      }
    }
  } else {
    nlohmann::json body = {{"user_id", user_id}};
    if (!invite) {
      body["reason"] = "no longer a member of " + room.key + " in the desired state";
    }
    result = m_client.post(room_path + (invite ? "/invite" : "/kick"), body);
  }
  if (!result) {
    // Someone got there first (the user joined, or already left): the
    // desired end state holds, which is all that matters.
    const std::string& message = result.error().error.message;
    if (result.error().status == 403 && (message.find("already in the room") != std::string::npos ||
                                         message.find("not in the room") != std::string::npos)) {
      return OperationOutcome{std::nullopt, true};
    }
    // A remote invitee's server must sign the invite; Synapse answers 502
    // with a Matrix body when it cannot reach it (a proxy's 502 has none).
    // Repeating it in this pass would only wait for the same timeout again.
    if (invite && result.error().status == 502 && result.error().error.errcode == "M_UNKNOWN" &&
        !user_id.ends_with(":" + m_settings.server_name)) {
      model::Error error = with_context(result.error(), description);
      error.kind = model::Error::Kind::unreachable;
      return tl::unexpected(error);
    }
    return failed(result.error(), description);
  }
  if (m_own_writes != nullptr) {
    m_own_writes->add_membership(room_id, m_settings.bot_user_id, user_id, invite ? "invite" : "leave");
  }
  return OperationOutcome{};
}

model::Result<std::set<std::string>> HttpHomeserver::creators_of(const std::string& room_id,
                                                               const model::Room& room) {
  {
    std::lock_guard<std::mutex> lock(m_creators_mutex);
    if (auto it = m_creators.find(room_id); it != m_creators.end()) {
      return it->second;
    }
  }
  // Not observed by this process (created or adopted during this apply):
  // read the create event, whose sender the content does not name.
  const std::string path = api::k_client + "/rooms/" + encode_path_segment(room_id) + "/state";
  auto state = m_client.get(path);
  if (!state) {
    return failed(state.error(), "cannot read the state of " + room.key + " (" + room_id + ")");
  }
  if (auto events = check_state_events("GET", path, *state); !events) {
    return failed(events.error(), "cannot read the state of " + room.key + " (" + room_id + ")");
  }
  std::set<std::string> creators;
  model::ObservedRoom parsed = parse_room_state(room_id, *state, {}, m_settings);
  if (creators_have_unlimited_power(parsed.room.room_version)) {
    creators = room_creators(*state);
  }
  std::lock_guard<std::mutex> lock(m_creators_mutex);
  m_creators[room_id] = creators;
  return creators;
}

model::Result<OperationOutcome> HttpHomeserver::set_state(const model::Operation& operation, const model::Room& room,
                                                          const ExecutionContext& context) {
  auto room_id = context.room_ids.find(operation.room_key);
  if (room_id == context.room_ids.end()) {
    return model::fail(model::Error::Kind::not_found, model::describe(operation) + ": room id unknown");
  }
  const bool retired = operation.field == model::StateField::retired_child;
  auto write = state_write(room, operation.field, retired ? operation.room_id : operation.link_key,
                           operation.power_levels ? &*operation.power_levels : nullptr, context.room_ids, m_settings);
  if (!write) {
    return model::fail(write.error().kind, model::describe(operation) + ": " + write.error().message);
  }
  if (operation.field == model::StateField::power_levels) {
    // Room version 12: the observation listed the creators at their desired
    // level so the diff saw no change; the event itself must not list them.
    auto creators = creators_of(room_id->second, room);
    if (!creators) {
      model::Error error =
          model::make_error(creators.error().kind, model::describe(operation) + ": " + creators.error().message);
      error.errcode = creators.error().errcode;
      return tl::unexpected(error);
    }
    leave_out_creators(write->content, *creators);
  }
  const std::string path = api::k_client + "/rooms/" + encode_path_segment(room_id->second) + "/state/" +
                           encode_path_segment(write->type) + "/" + encode_path_segment(write->state_key);
  auto result = m_client.put(path, write->content);
  if (!result) {
    return failed(result.error(), model::describe(operation));
  }
  if (auto event = check_event_id("PUT", path, *result); !event) {
    return failed(event.error(), model::describe(operation));
  }
  if (m_own_writes != nullptr) {
    m_own_writes->add_event((*result)["event_id"].get<std::string>());
  }
  return OperationOutcome{};
}

model::Result<OperationOutcome> HttpHomeserver::execute(const model::Operation& operation,
                                                        const ExecutionContext& context) {
  using Kind = model::Operation::Kind;
  if (operation.kind == Kind::create_account || operation.kind == Kind::update_account ||
      operation.kind == Kind::suspend_account || operation.kind == Kind::reactivate_account) {
    m_remembered_accounts.forget();  // even if it fails: it may have changed the account
  }
  if (operation.kind == Kind::create_account || operation.kind == Kind::update_account) {
    auto account = context.desired->accounts.find(operation.account_key);
    if (account == context.desired->accounts.end()) {
      return model::fail(model::Error::Kind::not_found, model::describe(operation) + ": not in the desired state");
    }
    auto done = provision_account(m_client, m_settings, account->second, operation.kind == Kind::create_account);
    if (!done) {
      return tl::unexpected(done.error());
    }
    return OperationOutcome{};
  }
  if (operation.kind == Kind::delete_room) {
    return delete_room(operation, context);  // No longer in the desired state, by definition.
  }
  if (operation.kind == Kind::suspend_account || operation.kind == Kind::reactivate_account) {
    return set_suspended(operation, operation.kind == Kind::suspend_account);
  }
  auto room = context.desired->rooms.find(operation.room_key);
  if (room == context.desired->rooms.end()) {
    return model::fail(model::Error::Kind::not_found, model::describe(operation) + ": not in the desired state");
  }
  switch (operation.kind) {
    case Kind::create_room: return create_room(operation, room->second, context);
    case Kind::invite:
    case Kind::kick: return membership(operation, room->second, context);
    case Kind::set_state: return set_state(operation, room->second, context);
    case Kind::set_direct: return set_direct(operation, room->second, context);
    case Kind::upgrade_room: return upgrade_room(operation, room->second, context);
    case Kind::join_replacement: return join_replacement(operation);
    case Kind::send_message: {
      auto room_id = context.room_ids.find(operation.room_key);
      if (room_id == context.room_ids.end() || !room->second.once_message) {
        return model::fail(model::Error::Kind::not_found, model::describe(operation) + ": nothing to send");
      }
      const model::OnceMessage& message = *room->second.once_message;
      // The transaction id is derived from the key, so a repeat (after a
      // timeout or crash) returns the first event instead of a second one.
      const std::string path = api::k_client + "/rooms/" + encode_path_segment(room_id->second) +
                               "/send/m.room.message/" + encode_path_segment(message.txn_id);
      auto result = m_client.put(path, {{"msgtype", "m.text"}, {"body", message.body}});
      if (!result) {
        return failed(result.error(), model::describe(operation));
      }
      if (auto event = check_event_id("PUT", path, *result); !event) {
        return failed(event.error(), model::describe(operation));
      }
      if (m_own_writes != nullptr) {
        m_own_writes->add_event((*result)["event_id"].get<std::string>());
      }
      return OperationOutcome{};
    }
    default: break;
  }
  return model::fail(model::Error::Kind::invalid, "unsupported operation " + model::describe(operation));
}

}  // namespace adapters
