// The end of a managed object's life on the homeserver: hard-deleting a room
// whose grace period is over, and suspending or reactivating an account.
//
// Deleting: on Synapse with the admin API, the v2 room delete with purge,
// polled until its status is `complete`; elsewhere (Conduit, Tuwunel, an
// appservice bot) the portable way: unlink from the parent space, remove the
// aliases, kick every member and leave, after which nobody is left in it.
// Suspending: Synapse's suspend API, or `locked` where the server predates it
// (Synapse < 1.114 answers 400 M_UNRECOGNIZED, synapse-observed.md).

#include <chrono>
#include <thread>

#include "adapters/account_provisioning.h"
#include "adapters/http_homeserver.h"
#include "adapters/room_events.h"

namespace adapters {

namespace {

const std::string k_client = "/_matrix/client/v3";
const std::string k_admin_v1 = "/_synapse/admin/v1";
const std::string k_admin_v2 = "/_synapse/admin/v2";

// How long a Synapse delete may run before the operation gives up (it goes
// on in the background; the next pass sees the room gone or deletes again).
constexpr std::chrono::minutes k_delete_timeout{10};

model::Result<OperationOutcome> fail_as(const MatrixFailure& failure, const std::string& what) {
  model::Error error = failure.error;
  error.message = what + ": " + error.message;
  return tl::unexpected(error);
}

}  // namespace

model::Result<OperationOutcome> HttpHomeserver::delete_room(const model::Operation& operation,
                                                            const ExecutionContext& context) {
  const std::string what = model::describe(operation);
  auto room_id = context.room_ids.find(operation.room_key);
  if (room_id == context.room_ids.end()) {
    return model::fail(model::Error::Kind::not_found, what + ": room id unknown");
  }
  const std::string room_path = k_client + "/rooms/" + encode_path_segment(room_id->second);
  auto state = m_client.get(room_path + "/state");
  if (!state) {
    // Synapse answers 403 for a room that is gone or that the bot has left:
    // a repeat after a crash finds its work done.
    if (state.error().status == 403) {
      return OperationOutcome{std::nullopt, true};
    }
    return fail_as(state.error(), what + ": cannot read the room's state");
  }
  // Unlink from the parent space first, so no space lists a deleted room.
  for (const nlohmann::json& event : *state) {
    if (event.value("type", "") != "m.space.parent" || !event.contains("state_key")) {
      continue;
    }
    const std::string parent = event.value("state_key", "");
    auto unlinked = m_client.put(k_client + "/rooms/" + encode_path_segment(parent) + "/state/m.space.child/" +
                                     encode_path_segment(room_id->second),
                                 nlohmann::json::object());
    // A parent deleted before (or one the bot is no longer in) has no link to remove.
    if (!unlinked && unlinked.error().status != 403 && unlinked.error().status != 404) {
      return fail_as(unlinked.error(), what + ": cannot unlink it from space " + parent);
    }
  }
  if (m_capabilities.server_admin) {
    return purge_room(operation, room_id->second);
  }
  std::set<std::string> aliases;
  std::vector<std::string> members;
  for (const nlohmann::json& event : *state) {
    const std::string type = event.value("type", "");
    if (!event.contains("content") || !event["content"].is_object()) {
      continue;
    }
    const nlohmann::json& content = event["content"];
    if (type == "m.room.canonical_alias") {
      if (content.contains("alias") && content["alias"].is_string()) {
        aliases.insert(content["alias"].get<std::string>());
      }
      for (const nlohmann::json& alt : content.value("alt_aliases", nlohmann::json::array())) {
        if (alt.is_string()) {
          aliases.insert(alt.get<std::string>());
        }
      }
    } else if (type == "m.room.member") {
      const std::string membership = content.value("membership", "");
      const std::string user = event.value("state_key", "");
      if ((membership == "join" || membership == "invite") && user != m_settings.bot_user_id) {
        members.push_back(user);
      }
    }
  }
  for (const std::string& alias : aliases) {
    auto removed = m_client.del(k_client + "/directory/room/" + encode_path_segment(alias), nlohmann::json::object());
    if (!removed && removed.error().status != 404) {
      return fail_as(removed.error(), what + ": cannot remove alias " + alias);
    }
  }
  for (const std::string& user : members) {
    auto kicked = m_client.post(room_path + "/kick",
                                {{"user_id", user}, {"reason", "the room's grace period after archiving is over"}});
    // 403: a member at the bot's own level (a community admin at 100) can
    // be removed by nobody but themselves; the room is left to them.
    if (!kicked && kicked.error().status != 403) {
      return fail_as(kicked.error(), what + ": cannot remove " + user);
    }
  }
  auto left = m_client.post(room_path + "/leave", nlohmann::json::object());
  if (!left && left.error().status != 403) {
    return fail_as(left.error(), what + ": cannot leave the room");
  }
  return OperationOutcome{};
}

model::Result<OperationOutcome> HttpHomeserver::purge_room(const model::Operation& operation,
                                                           const std::string& room_id) {
  const std::string what = model::describe(operation);
  auto started = m_client.del(k_admin_v2 + "/rooms/" + encode_path_segment(room_id), {{"purge", true}});
  if (!started) {
    return fail_as(started.error(), what + ": the Synapse admin API refused the delete");
  }
  const std::string delete_id = started->value("delete_id", "");
  if (delete_id.empty()) {
    return model::fail(model::Error::Kind::invalid, what + ": the delete answer has no delete_id");
  }
  const auto deadline = std::chrono::steady_clock::now() + k_delete_timeout;
  auto pause = std::chrono::milliseconds(100);
  for (;;) {
    auto status = m_client.get(k_admin_v2 + "/rooms/delete_status/" + encode_path_segment(delete_id));
    if (!status) {
      return fail_as(status.error(), what + ": cannot read the status of delete " + delete_id);
    }
    const std::string state = status->value("status", "");
    if (state == "complete") {
      return OperationOutcome{};
    }
    if (state == "failed") {
      return model::fail(model::Error::Kind::transient,
                         what + ": Synapse's delete " + delete_id + " failed: " + status->value("error", "no reason"));
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return model::fail(model::Error::Kind::transient, what + ": delete " + delete_id + " still " + state +
                                                            " after 10 minutes; the next pass checks again");
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(2000));
  }
}

model::Result<OperationOutcome> HttpHomeserver::set_suspended(const model::Operation& operation, bool suspend) {
  const std::string what = model::describe(operation);
  const std::string user = encode_path_segment(operation.user_id);
  if (suspend && m_settings.deactivate_accounts) {
    // The operator asked for Synapse's deactivation; erasing is never asked
    // for: the audit trail keeps the person's messages.
    auto deactivated = m_client.post(k_admin_v1 + "/deactivate/" + user, {{"erase", false}});
    if (!deactivated) {
      return fail_as(deactivated.error(), what + " (deactivate)");
    }
    auto after = m_client.get(k_admin_v2 + "/users/" + user);
    if (!after) {
      return fail_as(after.error(), what + " (deactivate): cannot read the account back");
    }
    if (!account_deactivated(*after)) {
      return model::fail(model::Error::Kind::invalid,
                         what + " (deactivate): the homeserver accepted the request but the account is still active");
    }
    return OperationOutcome{};
  }
  if (!suspend) {
    // A deactivated account cannot be brought back by mxctl: Synapse wants a
    // new password for it, which only a person should choose.
    auto account = m_client.get(k_admin_v2 + "/users/" + user);
    if (!account) {
      return fail_as(account.error(), what);
    }
    if (account_deactivated(*account)) {
      return model::fail(model::Error::Kind::forbidden,
                         what + ": " + operation.user_id +
                             " was deactivated (deactivatedAccounts: deactivate) and Synapse reactivates an account "
                             "only with a new password; an admin must do it");
    }
  }
  auto suspended = m_client.put(k_admin_v1 + "/suspend/" + user, {{"suspend", suspend}});
  bool unsupported = !suspended && (suspended.error().errcode == "M_UNRECOGNIZED" ||
                                    suspended.error().status == 404);
  if (!suspended && !unsupported) {
    return fail_as(suspended.error(), what);
  }
  // Without the suspend API, `locked` keeps the person out; reactivation
  // lifts both, whichever an earlier version of mxctl (or an admin) used.
  if (unsupported || !suspend) {
    auto locked = m_client.put(k_admin_v2 + "/users/" + user, {{"locked", suspend}});
    if (!locked) {
      return fail_as(locked.error(), what);
    }
  }
  // A 200 proves nothing: Synapse before 1.93 accepts `locked` and ignores it.
  auto after = m_client.get(k_admin_v2 + "/users/" + user);
  if (!after) {
    return fail_as(after.error(), what + ": cannot read the account back");
  }
  if (account_suspended(*after) != suspend) {
    return model::fail(model::Error::Kind::invalid,
                       what + ": the homeserver accepted the request but the account is " +
                           (suspend ? "not suspended" : "still suspended") +
                           (after->contains("suspended") || after->contains("locked")
                                ? ""
                                : " (it shows neither `suspended` nor `locked`: no suspend API and no `locked` flag)"));
  }
  return OperationOutcome{};
}

}  // namespace adapters
