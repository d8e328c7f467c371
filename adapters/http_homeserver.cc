#include "adapters/http_homeserver.h"

#include <random>

#include "adapters/room_events.h"
#include "model/naming.h"

namespace adapters {

namespace {

const std::string k_client = "/_matrix/client/v3";
const std::string k_admin_v1 = "/_synapse/admin/v1";
const std::string k_admin_v2 = "/_synapse/admin/v2";

// Errors carry what was being done and for which key, then the server's words.
model::Error with_context(const MatrixFailure& failure, const std::string& action) {
  model::Error error = failure.error;
  error.message = action + ": " + error.message;
  return error;
}

tl::unexpected<model::Error> failed(const MatrixFailure& failure, const std::string& action) {
  return tl::unexpected(with_context(failure, action));
}

bool truthy(const nlohmann::json& value) {
  // Synapse 1.67 sends 0/1 integers, newer releases booleans.
  return value.is_boolean() ? value.get<bool>() : value.is_number_integer() && value.get<int>() != 0;
}

std::optional<std::string> optional_string(const nlohmann::json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end() || !it->is_string() || it->get<std::string>().empty()) {
    return std::nullopt;
  }
  return it->get<std::string>();
}

// A fresh filter string per pass: Synapse caches /sync answers for about two
// minutes per (token, since, filter, timeout), and a second pass right after
// an apply must not be served the answer from before it.
std::string sync_filter() {
  std::random_device random;
  nlohmann::json filter = {
      {"presence", {{"not_types", {"*"}}}},
      {"account_data", {{"not_types", {"*", "org.mxctl.pass." + std::to_string(random())}}}},
      {"room",
       {{"timeline", {{"limit", 0}}},
        {"ephemeral", {{"not_types", {"*"}}}},
        {"account_data", {{"not_types", {"*"}}}},
        {"state", {{"lazy_load_members", false}}}}},
  };
  return filter.dump();
}

std::string query_escape(const std::string& text) { return encode_path_segment(text); }

}  // namespace

HttpHomeserver::HttpHomeserver(model::Settings settings, std::string access_token, ClientOptions options)
    : m_settings(std::move(settings)), m_client(m_settings.homeserver_url, std::move(access_token), options) {}

model::Result<Capabilities> HttpHomeserver::probe() {
  Capabilities caps;
  auto versions = m_client.get("/_matrix/client/versions");
  if (!versions) {
    return failed(versions.error(), "cannot reach the homeserver at " + m_settings.homeserver_url);
  }
  if (versions->contains("versions") && (*versions)["versions"].is_array()) {
    caps.versions = (*versions)["versions"].get<std::vector<std::string>>();
  }
  auto whoami = m_client.get(k_client + "/account/whoami");
  if (!whoami) {
    return failed(whoami.error(), "the bot's access token was not accepted");
  }
  caps.user_id = whoami->value("user_id", "");
  if (caps.user_id != m_settings.bot_user_id) {
    return model::fail(model::Error::Kind::forbidden, "the access token belongs to " + caps.user_id +
                                                          ", not to the configured bot " + m_settings.bot_user_id);
  }
  if (auto version = m_client.get(k_admin_v1 + "/server_version")) {
    caps.synapse_version = "Synapse " + version->value("server_version", "?");
    auto admin_probe = m_client.get(k_admin_v2 + "/users?limit=1");
    caps.server_admin = admin_probe.has_value();
  }
  if (m_settings.provisioning == model::ProvisioningMode::synapse_admin && !caps.server_admin) {
    return model::fail(model::Error::Kind::forbidden,
                       caps.synapse_version.empty()
                           ? "provisioning is synapse-admin but the homeserver has no Synapse admin API; use "
                             "provisioning: appservice"
                           : "provisioning is synapse-admin but " + m_settings.bot_user_id +
                                 " is not a server admin on " + caps.synapse_version);
  }
  return caps;
}

model::Result<Observation> HttpHomeserver::observe(const model::MatrixState& desired, const ObserveHints& hints) {
  Observation out;
  if (auto accounts = observe_accounts(desired, out.state); !accounts) {
    return tl::unexpected(accounts.error());
  }
  if (auto rooms = observe_rooms(desired, hints, out); !rooms) {
    return tl::unexpected(rooms.error());
  }
  return out;
}

model::Result<void> HttpHomeserver::observe_accounts(const model::MatrixState& desired, model::ObservedState& out) {
  std::map<std::string, std::string> key_of_user;
  for (const auto& [key, account] : desired.accounts) {
    key_of_user[account.user_id] = key;
  }
  if (key_of_user.empty()) {
    return {};
  }
  // Pages of the admin user list: requests grow with users/500, not users.
  std::string from = "0";
  while (true) {
    auto page = m_client.get(k_admin_v2 + "/users?deactivated=true&locked=true&limit=500&from=" + query_escape(from));
    if (!page) {
      return failed(page.error(), "cannot list accounts");
    }
    for (const nlohmann::json& user : page->value("users", nlohmann::json::array())) {
      auto it = key_of_user.find(user.value("name", ""));
      if (it == key_of_user.end()) {
        continue;
      }
      const model::Account& want = desired.accounts.at(it->second);
      model::Account have;
      have.key = it->second;
      have.user_id = want.user_id;
      have.localpart = want.localpart;
      have.display_name = optional_string(user, "displayname");
      have.avatar_url = optional_string(user, "avatar_url");
      have.admin = truthy(user.value("admin", nlohmann::json(false)));
      bool inactive = truthy(user.value("deactivated", nlohmann::json(false))) ||
                      truthy(user.value("suspended", nlohmann::json(false))) ||
                      truthy(user.value("locked", nlohmann::json(false)));
      have.status = inactive ? model::AccountStatus::suspended : model::AccountStatus::active;
      have.linked_accounts = want.linked_accounts;
      out.accounts[have.key] = have;
    }
    auto next = page->find("next_token");
    if (next == page->end() || next->is_null()) {
      break;
    }
    from = next->is_string() ? next->get<std::string>() : std::to_string(next->get<std::int64_t>());
  }
  return {};
}

model::Result<void> HttpHomeserver::observe_rooms(const model::MatrixState& desired, const ObserveHints& hints,
                                                  Observation& out) {
  // One filtered /sync returns the state of every room the bot is in.
  auto sync = m_client.get(k_client + "/sync?timeout=0&filter=" + query_escape(sync_filter()));
  if (!sync) {
    return failed(sync.error(), "cannot read the bot's rooms (/sync)");
  }
  out.sync_token = sync->value("next_batch", "");
  nlohmann::json joined = nlohmann::json::object();
  if (auto rooms = sync->find("rooms"); rooms != sync->end() && rooms->contains("join")) {
    joined = (*rooms)["join"];
  }
  // First pass: markers tell which room is which key.
  std::map<std::string, std::string> key_of;  // room id → key
  for (const auto& [key, id] : hints.room_ids) {
    key_of[id] = key;
  }
  std::map<std::string, const nlohmann::json*> state_of;
  for (const auto& [room_id, room] : joined.items()) {
    const nlohmann::json* events = nullptr;
    if (room.contains("state") && room["state"].contains("events")) {
      events = &room["state"]["events"];
    }
    state_of[room_id] = events;
    if (events == nullptr) {
      continue;
    }
    for (const nlohmann::json& event : *events) {
      if (event.value("type", "") == m_settings.marker_event_type && event.value("state_key", "x").empty() &&
          event.contains("content") && event["content"].value("instance", "") == m_settings.instance) {
        key_of[room_id] = event["content"].value("key", "");
      }
    }
  }
  // Second pass: parse the rooms that carry our marker.
  std::map<std::string, std::string> alias_holder;  // alias → room id of joined unmarked rooms
  for (const auto& [room_id, events] : state_of) {
    if (events == nullptr) {
      continue;
    }
    model::ObservedRoom room = parse_room_state(room_id, *events, key_of, m_settings);
    if (room.marker_key.empty()) {
      if (!room.room.alias.empty()) {
        alias_holder[room.room.alias] = room_id;
      }
      continue;
    }
    out.room_ids[room.marker_key] = room_id;
    out.state.rooms[room.marker_key] = std::move(room);
  }
  // Once-messages the store does not know about (first pass, lost store,
  // crash after sending): look in the room's recent timeline.
  for (const auto& [key, want] : desired.rooms) {
    auto found = out.state.rooms.find(key);
    if (!want.once_message || found == out.state.rooms.end() || hints.messages_sent.count(key)) {
      continue;
    }
    auto sent = message_was_sent(found->second.room_id, *want.once_message);
    if (!sent) {
      return tl::unexpected(sent.error());
    }
    if (*sent) {
      out.state.messages_sent.insert(key);
    }
  }
  // Desired rooms not found among the bot's rooms: the alias says whether
  // something else holds the name (a clash) or nothing does (to be created).
  for (const auto& [key, want] : desired.rooms) {
    if (out.state.rooms.count(key)) {
      continue;
    }
    if (auto holder = alias_holder.find(want.alias); holder != alias_holder.end()) {
      out.state.alias_clashes[key] = holder->second;
      continue;
    }
    auto resolved = m_client.get(k_client + "/directory/room/" + encode_path_segment(want.alias));
    if (!resolved) {
      if (resolved.error().error.kind == model::Error::Kind::not_found) {
        continue;
      }
      return failed(resolved.error(), "cannot look up alias " + want.alias + " of " + key);
    }
    // The alias exists but the bot is not in that room with our marker: it
    // is not ours to change (or the bot was removed from it; an operator
    // must decide).
    out.state.alias_clashes[key] = resolved->value("room_id", "?");
  }
  return {};
}

model::Result<bool> HttpHomeserver::message_was_sent(const std::string& room_id, const model::OnceMessage& message) {
  nlohmann::json filter = {{"types", {"m.room.message"}}, {"senders", {m_settings.bot_user_id}}};
  auto page = m_client.get(k_client + "/rooms/" + encode_path_segment(room_id) + "/messages?dir=b&limit=100&filter=" +
                           query_escape(filter.dump()));
  if (!page) {
    return failed(page.error(), "cannot read the timeline of " + room_id);
  }
  for (const nlohmann::json& event : page->value("chunk", nlohmann::json::array())) {
    if (!event.contains("content")) {
      continue;
    }
    // The transaction id comes back only to the sender's own device; the
    // body is the fallback for messages sent with another token.
    bool same_txn = event.contains("unsigned") && event["unsigned"].value("transaction_id", "") == message.txn_id;
    if (same_txn || event["content"].value("body", "") == message.body) {
      return true;
    }
  }
  return false;
}

model::Result<OperationOutcome> HttpHomeserver::put_account(const model::Account& account, bool creating) {
  nlohmann::json body = {{"admin", account.admin}};
  if (account.display_name) {
    body["displayname"] = *account.display_name;
  }
  if (account.avatar_url) {
    body["avatar_url"] = *account.avatar_url;
  }
  auto result = m_client.put(k_admin_v2 + "/users/" + encode_path_segment(account.user_id), body);
  if (!result) {
    return failed(result.error(), std::string(creating ? "create" : "update") + " account " + account.key + " (" +
                                      account.user_id + ")");
  }
  return OperationOutcome{};
}

model::Result<OperationOutcome> HttpHomeserver::adopt_existing(const model::Room& room) {
  auto resolved = m_client.get(k_client + "/directory/room/" + encode_path_segment(room.alias));
  if (!resolved) {
    return failed(resolved.error(), "create room " + room.key + ": the alias is taken but cannot be resolved");
  }
  std::string room_id = resolved->value("room_id", "");
  auto marker = m_client.get(k_client + "/rooms/" + encode_path_segment(room_id) + "/state/" +
                             encode_path_segment(m_settings.marker_event_type) + "/");
  if (marker && marker->value("key", "") == room.key && marker->value("instance", "") == m_settings.instance) {
    // Our own room from an earlier, interrupted attempt: adopt it.
    return OperationOutcome{room_id, true};
  }
  return model::fail(model::Error::Kind::conflict, "create room " + room.key + ": alias " + room.alias +
                                                       " belongs to room " + room_id +
                                                       ", which has no mxctl marker; mxctl will not take it over");
}

model::Result<OperationOutcome> HttpHomeserver::create_room(const model::Room& room, const ExecutionContext& context) {
  auto body = create_room_body(room, context.room_ids, m_settings);
  if (!body) {
    return tl::unexpected(body.error());
  }
  auto created = m_client.post(k_client + "/createRoom", *body);
  if (!created) {
    // The alias is the idempotency key: after a retry or a crash the room may
    // already exist. Look before failing.
    if (created.error().errcode == "M_ROOM_IN_USE") {
      return adopt_existing(room);
    }
    return failed(created.error(), "create room " + room.key);
  }
  return OperationOutcome{created->value("room_id", ""), false};
}

model::Result<OperationOutcome> HttpHomeserver::membership(const model::Operation& operation,
                                                           const ExecutionContext& context) {
  auto room_id = context.room_ids.find(operation.room_key);
  if (room_id == context.room_ids.end()) {
    return model::fail(model::Error::Kind::not_found, model::describe(operation) + ": room id unknown");
  }
  bool invite = operation.kind == model::Operation::Kind::invite;
  nlohmann::json body = {{"user_id", operation.user_id}};
  if (!invite) {
    body["reason"] = "no longer a member of " + operation.room_key + " in the desired state";
  }
  auto result = m_client.post(k_client + "/rooms/" + encode_path_segment(room_id->second) +
                                  (invite ? "/invite" : "/kick"),
                              body);
  if (!result) {
    // Someone got there first (the user joined, or already left): the
    // desired end state holds, which is all that matters.
    const std::string& message = result.error().error.message;
    if (result.error().status == 403 && (message.find("already in the room") != std::string::npos ||
                                         message.find("not in the room") != std::string::npos)) {
      return OperationOutcome{std::nullopt, true};
    }
    return failed(result.error(), model::describe(operation));
  }
  return OperationOutcome{};
}

model::Result<OperationOutcome> HttpHomeserver::execute(const model::Operation& operation,
                                                        const ExecutionContext& context) {
  using Kind = model::Operation::Kind;
  if (operation.kind == Kind::create_account || operation.kind == Kind::update_account) {
    auto account = context.desired->accounts.find(operation.account_key);
    if (account == context.desired->accounts.end()) {
      return model::fail(model::Error::Kind::not_found, model::describe(operation) + ": not in the desired state");
    }
    return put_account(account->second, operation.kind == Kind::create_account);
  }
  auto room = context.desired->rooms.find(operation.room_key);
  if (room == context.desired->rooms.end()) {
    return model::fail(model::Error::Kind::not_found, model::describe(operation) + ": not in the desired state");
  }
  switch (operation.kind) {
    case Kind::create_room: return create_room(room->second, context);
    case Kind::invite:
    case Kind::kick: return membership(operation, context);
    case Kind::set_state: {
      auto room_id = context.room_ids.find(operation.room_key);
      if (room_id == context.room_ids.end()) {
        return model::fail(model::Error::Kind::not_found, model::describe(operation) + ": room id unknown");
      }
      auto write = state_write(room->second, operation.field, operation.link_key,
                               operation.power_levels ? &*operation.power_levels : nullptr, context.room_ids,
                               m_settings);
      if (!write) {
        return tl::unexpected(write.error());
      }
      auto result = m_client.put(k_client + "/rooms/" + encode_path_segment(room_id->second) + "/state/" +
                                     encode_path_segment(write->type) + "/" + encode_path_segment(write->state_key),
                                 write->content);
      if (!result) {
        return failed(result.error(), model::describe(operation));
      }
      return OperationOutcome{};
    }
    case Kind::send_message: {
      auto room_id = context.room_ids.find(operation.room_key);
      if (room_id == context.room_ids.end() || !room->second.once_message) {
        return model::fail(model::Error::Kind::not_found, model::describe(operation) + ": nothing to send");
      }
      const model::OnceMessage& message = *room->second.once_message;
      // The transaction id is derived from the key, so a repeat (after a
      // timeout or crash) returns the first event instead of a second one.
      auto result = m_client.put(k_client + "/rooms/" + encode_path_segment(room_id->second) +
                                     "/send/m.room.message/" + encode_path_segment(message.txn_id),
                                 {{"msgtype", "m.text"}, {"body", message.body}});
      if (!result) {
        return failed(result.error(), model::describe(operation));
      }
      return OperationOutcome{};
    }
    default: break;
  }
  return model::fail(model::Error::Kind::invalid, "unsupported operation " + model::describe(operation));
}

}  // namespace adapters
