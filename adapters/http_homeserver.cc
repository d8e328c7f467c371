#include "adapters/http_homeserver.h"

#include <random>

#include "adapters/account_provisioning.h"
#include "adapters/room_creators.h"
#include "adapters/room_events.h"
#include "adapters/room_state_reader.h"
#include "adapters/sync_state.h"
#include "model/naming.h"

namespace adapters {

namespace {

const std::string k_client = "/_matrix/client/v3";

// Errors carry what was being done and for which key, then the server's words.
model::Error with_context(const MatrixFailure& failure, const std::string& action) {
  model::Error error = failure.error;
  error.message = action + ": " + error.message;
  return error;
}

tl::unexpected<model::Error> failed(const MatrixFailure& failure, const std::string& action) {
  return tl::unexpected(with_context(failure, action));
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

model::Result<Observation> HttpHomeserver::observe(const model::MatrixState& desired, const ObserveHints& hints) {
  Observation out;
  if (auto accounts = observe_accounts(m_client, m_settings, desired, hints.suspended_accounts, out.state); !accounts) {
    return tl::unexpected(accounts.error());
  }
  if (auto rooms = observe_rooms(desired, hints, out); !rooms) {
    return tl::unexpected(rooms.error());
  }
  return out;
}

model::Result<void> HttpHomeserver::observe_rooms(const model::MatrixState& desired, const ObserveHints& hints,
                                                  Observation& out) {
  const std::string sync_path = k_client + "/sync?timeout=0&filter=" + query_escape(sync_filter());
  auto read = read_bot_rooms(m_client, sync_path, hints.sync_token, hints.room_snapshots, m_settings);
  if (!read) {
    return tl::unexpected(read.error());
  }
  out.sync_token = std::move(read->sync_token);
  out.changed_snapshots = std::move(read->changed_snapshots);
  out.incremental = read->incremental;
  // Markers tell which room is which key; the store's map covers rooms
  // whose marker we cannot read.
  std::map<std::string, std::string> key_of;  // room id → key
  for (const auto& [key, id] : hints.room_ids) {
    key_of[id] = key;
  }
  for (const auto& [room_id, read_room] : read->rooms) {
    if (!read_room.observed.marker_key.empty()) {
      key_of[room_id] = read_room.observed.marker_key;
    }
  }
  // Then the rooms that carry our marker, in room id order.
  std::map<std::string, std::string> alias_holder;  // alias → room id of joined unmarked rooms
  for (auto& [room_id, read_room] : read->rooms) {
    model::ObservedRoom& room = read_room.observed;
    resolve_room_links(room.room, key_of);
    if (room.marker_key.empty()) {
      if (!room.room.alias.empty()) {
        alias_holder[room.room.alias] = room_id;
      }
      continue;
    }
    if (creators_have_unlimited_power(room.room.room_version)) {
      std::set<std::string> creators = std::move(read_room.creators);
      if (auto want = desired.rooms.find(room.marker_key); want != desired.rooms.end()) {
        credit_creators(room.room.power_levels, want->second.power_levels, creators);
      }
      std::lock_guard<std::mutex> lock(m_creators_mutex);
      m_creators[room_id] = std::move(creators);
    } else {
      std::lock_guard<std::mutex> lock(m_creators_mutex);
      m_creators[room_id] = {};
    }
    // Two rooms with one key: a createRoom that failed half-way on Synapse
    // can leave a marked room without its alias before the retry made the
    // real one. The room holding the canonical alias is the one mxctl
    // manages; the other is left alone (and never adopted by accident).
    if (auto existing = out.state.rooms.find(room.marker_key); existing != out.state.rooms.end()) {
      auto want = desired.rooms.find(room.marker_key);
      bool existing_has_alias = want != desired.rooms.end() && existing->second.room.alias == want->second.alias;
      bool this_has_alias = want != desired.rooms.end() && room.room.alias == want->second.alias;
      if (existing_has_alias || !this_has_alias) {
        continue;
      }
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
    auto sent = message_was_sent(key, found->second.room_id, *want.once_message);
    if (!sent) {
      return tl::unexpected(sent.error());
    }
    if (*sent) {
      out.state.messages_sent.insert(key);
    }
  }
  // The same for m.direct: only entries the store does not know, and only
  // for our own accounts that exist already (their account data is the only
  // one we can read; after a crash a DM can exist before its participants).
  std::set<std::string> local_users;
  for (const auto& [key, account] : out.state.accounts) {
    if (account.status == model::AccountStatus::active) {
      local_users.insert(account.user_id);
    }
  }
  for (const auto& [key, want] : desired.rooms) {
    auto found = out.state.rooms.find(key);
    if (!want.is_direct || found == out.state.rooms.end()) {
      continue;
    }
    for (const std::string& user : want.members) {
      if (!local_users.count(user) || hints.directs_set.count({key, user})) {
        continue;
      }
      auto listed = direct_is_set(want, found->second.room_id, user, desired);
      if (!listed) {
        return tl::unexpected(listed.error());
      }
      if (*listed) {
        out.state.directs_set.insert({key, user});
      }
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

model::Result<bool> HttpHomeserver::message_was_sent(const std::string& key, const std::string& room_id,
                                                     const model::OnceMessage& message) {
  nlohmann::json filter = {{"types", {"m.room.message"}}, {"senders", {m_settings.bot_user_id}}};
  auto page = m_client.get(k_client + "/rooms/" + encode_path_segment(room_id) + "/messages?dir=b&limit=100&filter=" +
                           query_escape(filter.dump()));
  if (!page) {
    return failed(page.error(), "cannot read the timeline of " + key + " (" + room_id + ")");
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

model::Result<OperationOutcome> HttpHomeserver::adopt_existing(const model::Room& room) {
  const std::string action = "create room " + room.key + " (M_ROOM_IN_USE)";
  auto resolved = m_client.get(k_client + "/directory/room/" + encode_path_segment(room.alias));
  if (!resolved) {
    return failed(resolved.error(), action + ": the alias is taken but cannot be resolved");
  }
  std::string room_id = resolved->value("room_id", "");
  auto marker = m_client.get(k_client + "/rooms/" + encode_path_segment(room_id) + "/state/" +
                             encode_path_segment(m_settings.marker_event_type) + "/");
  if (marker && marker->value("key", "") == room.key && marker->value("instance", "") == m_settings.instance) {
    // Our own room from an earlier, interrupted attempt: adopt it.
    return OperationOutcome{room_id, true};
  }
  std::string why = ", which has no mxctl marker";
  if (marker) {
    why = ", which is marked as \"" + marker->value("key", "") + "\" of instance \"" +
          marker->value("instance", "") + "\"";
  } else if (marker.error().error.kind != model::Error::Kind::not_found) {
    why = ", whose marker cannot be read (" + marker.error().error.message + ")";
  }
  return model::fail(model::Error::Kind::conflict, action + ": alias " + room.alias + " belongs to room " + room_id +
                                                       why + "; mxctl will not take it over");
}

model::Result<OperationOutcome> HttpHomeserver::create_room(const model::Room& room, const ExecutionContext& context) {
  auto body = create_room_body(room, context.room_ids, m_settings);
  if (!body) {
    return model::fail(body.error().kind, "create room " + room.key + ": " + body.error().message);
  }
  // Room version 12: the creator (the bot) has unlimited power and must not
  // be listed in power levels, or the homeserver refuses the room.
  if (creators_have_unlimited_power(room.room_version)) {
    leave_out_creators((*body)["power_level_content_override"], {m_settings.bot_user_id});
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
  // forceJoin: local users are joined by the admin API instead of invited
  // (remote users, such as linked accounts elsewhere, can only be invited).
  const std::string local_suffix = ":" + m_settings.server_name;
  if (invite && m_settings.force_join && operation.user_id.ends_with(local_suffix)) {
    auto joined = m_client.post("/_synapse/admin/v1/join/" + encode_path_segment(room_id->second), body);
    if (!joined) {
      return failed(joined.error(), "join " + operation.user_id + " to " + operation.room_key);
    }
    return OperationOutcome{};
  }
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
    // A remote invitee's server must sign the invite; Synapse answers 502
    // with a Matrix body when it cannot reach it (a proxy's 502 has none).
    // Repeating it in this pass would only wait for the same timeout again.
    if (invite && result.error().status == 502 && result.error().errcode == "M_UNKNOWN" &&
        !operation.user_id.ends_with(local_suffix)) {
      model::Error error = with_context(result.error(), model::describe(operation));
      error.kind = model::Error::Kind::unreachable;
      return tl::unexpected(error);
    }
    return failed(result.error(), model::describe(operation));
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
  auto state = m_client.get(k_client + "/rooms/" + encode_path_segment(room_id) + "/state");
  if (!state) {
    return failed(state.error(), "cannot read the state of " + room.key + " (" + room_id + ")");
  }
  std::set<std::string> creators;
  if (state->is_array()) {
    model::ObservedRoom parsed = parse_room_state(room_id, *state, {}, m_settings);
    if (creators_have_unlimited_power(parsed.room.room_version)) {
      creators = room_creators(*state);
    }
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
  auto write = state_write(room, operation.field, operation.link_key,
                           operation.power_levels ? &*operation.power_levels : nullptr, context.room_ids, m_settings);
  if (!write) {
    return model::fail(write.error().kind, model::describe(operation) + ": " + write.error().message);
  }
  if (operation.field == model::StateField::power_levels) {
    // Room version 12: the observation listed the creators at their desired
    // level so the diff saw no change; the event itself must not list them.
    auto creators = creators_of(room_id->second, room);
    if (!creators) {
      return model::fail(creators.error().kind, model::describe(operation) + ": " + creators.error().message);
    }
    leave_out_creators(write->content, *creators);
  }
  auto result = m_client.put(k_client + "/rooms/" + encode_path_segment(room_id->second) + "/state/" +
                                 encode_path_segment(write->type) + "/" + encode_path_segment(write->state_key),
                             write->content);
  if (!result) {
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
    case Kind::create_room: return create_room(room->second, context);
    case Kind::invite:
    case Kind::kick: return membership(operation, context);
    case Kind::set_state: return set_state(operation, room->second, context);
    case Kind::set_direct: return set_direct(operation, room->second, context);
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
