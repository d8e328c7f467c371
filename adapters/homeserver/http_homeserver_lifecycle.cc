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

#include "adapters/homeserver/account_provisioning.h"
#include "adapters/homeserver/answer_shape.h"
#include "adapters/homeserver/api_paths.h"
#include "adapters/homeserver/error_context.h"
#include "adapters/homeserver/http_homeserver.h"
#include "adapters/homeserver/room_events.h"

namespace adapters {

namespace {

// How long a Synapse delete may run before the operation gives up (it goes
// on in the background; the next pass sees the room gone or deletes again).
constexpr std::chrono::minutes k_delete_timeout{10};

// What the portable delete needs of a room's state (GET /rooms/{id}/state,
// an array of events with a string type, a string state_key and an object
// content): the parent spaces, the aliases and the members to remove.
struct RoomFacts {
  std::vector<std::string> parents;
  std::set<std::string> aliases;
  std::vector<std::string> members;
};

model::Result<RoomFacts> room_facts(const std::string& path, const nlohmann::json& body, const std::string& bot) {
  Answer answer("GET", path, body);
  auto events = answer.body(JsonType::array);
  if (!events) {
    return tl::unexpected(events.error());
  }
  RoomFacts facts;
  std::size_t index = 0;
  for (const nlohmann::json& event : **events) {
    const std::string where = "[" + std::to_string(index++) + "]";
    auto type = answer.string(event, where, "type");
    auto state_key = answer.string(event, where, "state_key");
    auto content = answer.field(event, where, "content", JsonType::object);
    if (!type || !state_key || !content) {
      return tl::unexpected(!type ? type.error() : !state_key ? state_key.error() : content.error());
    }
    // Content is what people wrote, not the server's answer: odd values
    // there are skipped, not errors.
    const nlohmann::json& fields = **content;
    if (*type == "m.space.parent") {
      facts.parents.push_back(*state_key);
    } else if (*type == "m.room.canonical_alias") {
      if (auto alias = fields.find("alias"); alias != fields.end() && alias->is_string()) {
        facts.aliases.insert(alias->get<std::string>());
      }
      if (auto alt = fields.find("alt_aliases"); alt != fields.end() && alt->is_array()) {
        for (const nlohmann::json& other : *alt) {
          if (other.is_string()) {
            facts.aliases.insert(other.get<std::string>());
          }
        }
      }
    } else if (*type == "m.room.member") {
      auto membership = fields.find("membership");
      bool present = membership != fields.end() && (*membership == "join" || *membership == "invite");
      if (present && *state_key != bot) {
        facts.members.push_back(*state_key);
      }
    }
  }
  return facts;
}

}  // namespace

model::Result<OperationOutcome> HttpHomeserver::delete_room(const model::Operation& operation,
                                                            const ExecutionContext& context) {
  const std::string what = model::describe(operation);
  auto room_id = context.room_ids.find(operation.room_key);
  if (room_id == context.room_ids.end()) {
    return model::fail(model::Error::Kind::not_found, what + ": room id unknown");
  }
  const std::string room_path = api::k_client + "/rooms/" + encode_path_segment(room_id->second);
  auto state = m_client.get(room_path + "/state");
  if (!state) {
    // Synapse answers 403 for a room that is gone or that the bot has left:
    // a repeat after a crash finds its work done.
    if (state.error().status == 403) {
      return OperationOutcome{std::nullopt, true};
    }
    return failed(state.error(), what + ": cannot read the room's state");
  }
  auto facts = room_facts(room_path + "/state", *state, m_settings.bot_user_id);
  if (!facts) {
    return failed(facts.error(), what + ": cannot read the room's state");
  }
  // Unlink from the parent space first, so no space lists a deleted room.
  for (const std::string& parent : facts->parents) {
    auto unlinked = m_client.put(api::k_client + "/rooms/" + encode_path_segment(parent) + "/state/m.space.child/" +
                                     encode_path_segment(room_id->second),
                                 nlohmann::json::object());
    // A parent deleted before (or one the bot is no longer in) has no link to remove.
    if (!unlinked && unlinked.error().status != 403 && unlinked.error().status != 404) {
      return failed(unlinked.error(), what + ": cannot unlink it from space " + parent);
    }
  }
  if (m_capabilities.server_admin) {
    return purge_room(operation, room_id->second);
  }
  const std::set<std::string>& aliases = facts->aliases;
  const std::vector<std::string>& members = facts->members;
  for (const std::string& alias : aliases) {
    auto removed = m_client.del(api::k_client + "/directory/room/" + encode_path_segment(alias), nlohmann::json::object());
    if (!removed && removed.error().status != 404) {
      return failed(removed.error(), what + ": cannot remove alias " + alias);
    }
  }
  for (const std::string& user : members) {
    auto kicked = m_client.post(room_path + "/kick",
                                {{"user_id", user}, {"reason", "the room's grace period after archiving is over"}});
    // 403: a member at the bot's own level (a community admin at 100) can
    // be removed by nobody but themselves; the room is left to them.
    if (!kicked && kicked.error().status != 403) {
      return failed(kicked.error(), what + ": cannot remove " + user);
    }
  }
  auto left = m_client.post(room_path + "/leave", nlohmann::json::object());
  if (!left && left.error().status != 403) {
    return failed(left.error(), what + ": cannot leave the room");
  }
  return OperationOutcome{};
}

model::Result<OperationOutcome> HttpHomeserver::purge_room(const model::Operation& operation,
                                                           const std::string& room_id) {
  const std::string what = model::describe(operation);
  const std::string delete_path = api::k_admin_v2 + "/rooms/" + encode_path_segment(room_id);
  auto started = m_client.del(delete_path, {{"purge", true}});
  if (!started) {
    return failed(started.error(), what + ": the Synapse admin API refused the delete");
  }
  Answer delete_answer("DELETE", delete_path, *started);
  auto delete_id_field = delete_answer.string(*started, "", "delete_id");
  if (!delete_id_field || delete_id_field->empty()) {
    return failed(delete_id_field ? delete_answer.malformed("delete_id is empty") : delete_id_field.error(), what);
  }
  const std::string delete_id = *delete_id_field;
  const auto deadline = std::chrono::steady_clock::now() + k_delete_timeout;
  auto pause = std::chrono::milliseconds(100);
  for (;;) {
    const std::string status_path = api::k_admin_v2 + "/rooms/delete_status/" + encode_path_segment(delete_id);
    auto status = m_client.get(status_path);
    if (!status) {
      return failed(status.error(), what + ": cannot read the status of delete " + delete_id);
    }
    // {status, error?}: Synapse 1.67 says shutting_down, purging, complete or
    // failed; newer releases scheduled, active, complete or failed.
    Answer answer("GET", status_path, *status);
    auto state_field = answer.string(*status, "", "status");
    auto reason = answer.optional_field(*status, "", "error", JsonType::string);
    if (!state_field || !reason) {
      return failed(!state_field ? state_field.error() : reason.error(), what);
    }
    const std::string& state = *state_field;
    if (state == "complete") {
      return OperationOutcome{};
    }
    if (state == "failed") {
      return model::fail(model::Error::Kind::transient, what + ": Synapse's delete " + delete_id + " failed: " +
                                                            (*reason ? (*reason)->get<std::string>() : "no reason"));
    }
    if (state != "scheduled" && state != "active" && state != "purging" && state != "shutting_down") {
      return failed(answer.malformed("status is \"" + state + "\", which Synapse's docs do not list"), what);
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
    auto deactivated = m_client.post(api::k_admin_v1 + "/deactivate/" + user, {{"erase", false}});
    if (!deactivated) {
      return failed(deactivated.error(), what + " (deactivate)");
    }
    auto after = m_client.get(api::k_admin_v2 + "/users/" + user);
    if (!after) {
      return failed(after.error(), what + " (deactivate): cannot read the account back");
    }
    auto details = read_account_details("GET", api::k_admin_v2 + "/users/" + user, *after);
    if (!details) {
      return failed(details.error(), what + " (deactivate): cannot read the account back");
    }
    if (!details->deactivated) {
      return model::fail(model::Error::Kind::invalid,
                         what + " (deactivate): the homeserver accepted the request but the account is still active");
    }
    return OperationOutcome{};
  }
  if (!suspend) {
    // A deactivated account cannot be brought back by mxctl: Synapse wants a
    // new password for it, which only a person should choose.
    auto account = m_client.get(api::k_admin_v2 + "/users/" + user);
    if (!account) {
      return failed(account.error(), what);
    }
    auto details = read_account_details("GET", api::k_admin_v2 + "/users/" + user, *account);
    if (!details) {
      return failed(details.error(), what);
    }
    if (details->deactivated) {
      return model::fail(model::Error::Kind::forbidden,
                         what + ": " + operation.user_id +
                             " was deactivated (deactivatedAccounts: deactivate) and Synapse reactivates an account "
                             "only with a new password; an admin must do it");
    }
  }
  auto suspended = m_client.put(api::k_admin_v1 + "/suspend/" + user, {{"suspend", suspend}});
  bool unsupported = !suspended && (suspended.error().error.errcode == "M_UNRECOGNIZED" ||
                                    suspended.error().status == 404);
  if (!suspended && !unsupported) {
    return failed(suspended.error(), what);
  }
  // Without the suspend API, `locked` keeps the person out; reactivation
  // lifts both, whichever an earlier version of mxctl (or an admin) used.
  if (unsupported || !suspend) {
    auto locked = m_client.put(api::k_admin_v2 + "/users/" + user, {{"locked", suspend}});
    if (!locked) {
      return failed(locked.error(), what);
    }
  }
  // A 200 proves nothing: Synapse before 1.93 accepts `locked` and ignores it.
  auto after = m_client.get(api::k_admin_v2 + "/users/" + user);
  if (!after) {
    return failed(after.error(), what + ": cannot read the account back");
  }
  auto details = read_account_details("GET", api::k_admin_v2 + "/users/" + user, *after);
  if (!details) {
    return failed(details.error(), what + ": cannot read the account back");
  }
  if (details->suspended != suspend) {
    return model::fail(model::Error::Kind::invalid,
                       what + ": the homeserver accepted the request but the account is " +
                           (suspend ? "not suspended" : "still suspended") +
                           (details->shows_suspension
                                ? ""
                                : " (it shows neither `suspended` nor `locked`: no suspend API and no `locked` flag)"));
  }
  return OperationOutcome{};
}

}  // namespace adapters
