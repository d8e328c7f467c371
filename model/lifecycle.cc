#include "model/lifecycle.h"

#include <algorithm>
#include <functional>

#include "model/compile.h"
#include "model/naming.h"

namespace model {

namespace {

enum class Fate { archive, restore, destroy };

// Decides the rest of the pass for every managed object, then lets the diff
// work out the field changes of what stays.
class LifecycleDecider {
 public:
  // Takes the desired state over and amends it in place: at instance scale a
  // copy of it cost as much as the whole diff.
  LifecycleDecider(MatrixState&& desired, const ObservedState& observed, const LifecycleRecords& records,
                   const LifecycleOptions& lifecycle)
      : m_observed(observed), m_records(records), m_lifecycle(lifecycle), m_amended(std::move(desired)) {}

  PassPlan run(const DiffOptions& options) {
    decide_accounts();
    decide_declared_archives();
    decide_removed_rooms();
    decide_restores();
    Plan plan = diff(m_amended, m_observed, options);
    label(plan);
    add_deletions(plan);
    for (ResourceChange& error : m_errors) {
      plan.changes.push_back(std::move(error));
    }
    return {std::move(m_amended), std::move(plan)};
  }

 private:
  bool is_protected(const std::string& address, bool declared) const {
    return declared || m_records.protected_addresses.count(address) > 0;
  }

  // Accounts no longer desired but managed are kept in the desired state as
  // suspended, with nothing else to change; people who are suspended lose
  // their levels everywhere (the diff drops managed users the desired power
  // levels do not name) and their seats in councils and coordination rooms.
  void decide_accounts() {
    // m_amended.accounts still holds exactly the desired accounts here: each
    // key below is added once, and only when it is not desired.
    for (const auto& [key, user_id] : m_records.managed_accounts) {
      if (m_amended.accounts.count(key)) {
        continue;
      }
      auto have = m_observed.accounts.find(key);
      if (have == m_observed.accounts.end()) {
        continue;
      }
      if (is_protected(account_address(key), false)) {
        m_errors.push_back({account_address(key), ResourceChange::Action::error, {},
                            user_id + " is protected (protect: true) and cannot be removed from the desired state; "
                                      "remove the protection first",
                            {}});
        continue;
      }
      Account gone = have->second;
      gone.status = AccountStatus::suspended;
      m_amended.accounts[key] = gone;
    }
    for (const auto& [key, account] : m_amended.accounts) {
      if (account.status == AccountStatus::suspended) {
        m_suspended.insert(account.user_id);
      }
    }
  }

  // The archive time of a room: its own archive event, else the store, else now.
  std::int64_t archive_time(const std::string& key, const ObservedRoom& have) const {
    if (have.room.archived_at) {
      return *have.room.archived_at;
    }
    if (auto it = m_records.archived_at.find(key); it != m_records.archived_at.end()) {
      return it->second;
    }
    return m_lifecycle.now;
  }

  // `want` is in archived form; dates it, and decides archive (new), keep
  // (already archived, grace running) or destroy (grace over).
  void decide_archived(const std::string& key, Room& want, const ObservedRoom& have, const std::string& why) {
    const std::int64_t archived_at = archive_time(key, have);
    want.archived_at = archived_at;
    want.topic = archive_topic(archived_at, m_lifecycle.grace_period_days);
    const std::int64_t delete_at = archived_at + days_ms(m_lifecycle.grace_period_days);
    // Deleted only when the server shows the archive (a record only in the
    // store is written to the room first) and the grace period is over by
    // this clock; a clock before the archive time never deletes.
    if (have.room.archived_at && m_lifecycle.now >= delete_at) {
      if (is_protected(room_address(key), want.protect)) {
        m_errors.push_back({room_address(key), ResourceChange::Action::error, {},
                            "archived on " + date_text(archived_at) + " and its grace period of " +
                                std::to_string(m_lifecycle.grace_period_days) + " days ended on " +
                                date_text(delete_at) + ", but it is protected (protect: true); it is not deleted",
                            {}});
        return;
      }
      m_fates[key] = Fate::destroy;
      m_deletions[key] = {archived_at, delete_at};
      drop(key);
      return;
    }
    if (!have.room.archived_at) {
      m_fates[key] = Fate::archive;
      m_archive_reasons[key] = why;
    }
  }

  // Removes a declared room from the amended state, remembering that it was
  // declared (decide_removed_rooms must not take it for one gone).
  void drop(std::string key) {
    m_amended.rooms.erase(key);
    m_dropped.insert(std::move(key));
  }

  // Whether the desired state as given declared the room `key`.
  bool declared(const std::string& key) const { return m_amended.rooms.count(key) || m_dropped.count(key); }

  void decide_declared_archives() {
    // The walk may drop the room it stands on, so it steps past it first; the
    // key is copied because it lives in the node that may go.
    for (auto it = m_amended.rooms.begin(); it != m_amended.rooms.end();) {
      auto current = it++;
      if (!current->second.archived) {
        continue;
      }
      const std::string key = current->first;
      Room& want = current->second;
      auto have = m_observed.rooms.find(key);
      if (have == m_observed.rooms.end()) {
        // Never create a room only to archive it.
        drop(key);
        continue;
      }
      decide_archived(key, want, have->second, "it is marked archived");
    }
  }

  // The archived form of a room no longer desired, built from what the
  // server holds so that only the archive fields change.
  Room archived_copy(const ObservedRoom& have) const {
    Room copy = have.room;
    copy.key = have.marker_key;
    copy.is_direct = false;
    copy.once_message.reset();
    for (const std::string& user : m_suspended) {
      copy.members.erase(user);
      copy.power_levels.users.erase(user);
    }
    if (have.room.archived_at) {
      copy.archived = true;  // Already in archived form: keep name and rules as they are.
      return copy;
    }
    copy.archived = false;
    return archived_form(std::move(copy));
  }

  void decide_removed_rooms() {
    for (const auto& [key, have] : m_observed.rooms) {
      if (declared(key) || have.marker_key != key) {
        continue;
      }
      // The marker keeps the protection a lost or replaced store forgot.
      if (is_protected(room_address(key), have.room.protect)) {
        m_errors.push_back({room_address(key), ResourceChange::Action::error, {},
                            "room " + have.room_id + " is protected (protect: true) and cannot be removed from the "
                                "desired state; remove the protection first",
                            {}});
        continue;
      }
      m_amended.rooms[key] = archived_copy(have);
      decide_archived(key, m_amended.rooms.at(key), have, "it is no longer in the desired state");
    }
  }

  void decide_restores() {
    for (const auto& [key, want] : m_amended.rooms) {
      auto have = m_observed.rooms.find(key);
      if (!want.archived && have != m_observed.rooms.end() && have->second.room.archived_at) {
        m_fates[key] = Fate::restore;
      }
    }
  }

  void label(Plan& plan) const {
    for (ResourceChange& change : plan.changes) {
      if (change.action != ResourceChange::Action::update || address_kind(change.address) != AddressKind::room) {
        continue;
      }
      const std::string key(address_key(change.address));
      auto fate = m_fates.find(key);
      if (fate == m_fates.end()) {
        continue;
      }
      if (fate->second == Fate::archive) {
        const Room& want = m_amended.rooms.at(key);
        const std::int64_t delete_at = *want.archived_at + days_ms(m_lifecycle.grace_period_days);
        change.action = ResourceChange::Action::archive;
        change.reason = m_archive_reasons.at(key) + "; it will be deleted on " + date_text(delete_at) +
                        " unless it comes back before";
        change.fields.push_back({"deleted_on", std::nullopt, TextValue{date_text(delete_at)}});
      } else if (fate->second == Fate::restore) {
        change.action = ResourceChange::Action::restore;
        change.reason = "it is desired again within its grace period: its name, topic, join rule and power "
                        "levels are restored";
      }
    }
  }

  // One delete_room per room whose grace period is over; a space waits for
  // its children being deleted in the same pass (destroy in reverse order).
  void add_deletions(Plan& plan) const {
    std::map<std::string, std::size_t> index_of;
    std::function<std::size_t(const std::string&)> place = [&](const std::string& key) -> std::size_t {
      if (auto done = index_of.find(key); done != index_of.end()) {
        return done->second;
      }
      const ObservedRoom& have = m_observed.rooms.at(key);
      Operation op;
      op.kind = Operation::Kind::delete_room;
      op.room_key = key;
      // Deleting unlinks the room from its space: a write to the space too.
      if (have.room.parent) {
        op.link_key = have.room.parent->key;
      }
      for (const SpaceLink& child : have.room.children) {
        if (m_deletions.count(child.key) && child.key != key) {
          op.depends_on.push_back(place(child.key));
        }
      }
      const auto& [archived_at, delete_at] = m_deletions.at(key);
      op.archived_at = archived_at;
      op.reason = "archived on " + date_text(archived_at) + ", grace period of " +
                  std::to_string(m_lifecycle.grace_period_days) + " days ended on " + date_text(delete_at);
      op.fields = {{"room_id", TextValue{have.room_id}, std::nullopt}};
      plan.operations.push_back(op);
      std::size_t index = plan.operations.size() - 1;
      index_of[key] = index;
      plan.changes.push_back({room_address(key), ResourceChange::Action::destroy, op.fields, op.reason, {index}});
      return index;
    };
    for (const auto& [key, dates] : m_deletions) {
      place(key);
    }
  }

  const ObservedState& m_observed;
  const LifecycleRecords& m_records;
  const LifecycleOptions& m_lifecycle;
  MatrixState m_amended;
  std::set<std::string> m_dropped;  // declared rooms taken out of m_amended
  std::set<std::string> m_suspended;
  std::map<std::string, Fate> m_fates;
  std::map<std::string, std::string> m_archive_reasons;
  std::map<std::string, std::pair<std::int64_t, std::int64_t>> m_deletions;  // key → (archived at, delete at)
  std::vector<ResourceChange> m_errors;
};

}  // namespace

std::int64_t days_ms(int days) { return static_cast<std::int64_t>(days) * 24 * 60 * 60 * 1000; }

std::string archive_topic(std::int64_t archived_at, int grace_period_days) {
  return "Archived on " + date_text(archived_at) + "; it will be deleted on " +
         date_text(archived_at + days_ms(grace_period_days)) + ".";
}

MatrixState observation_scope(const MatrixState& desired, const LifecycleRecords& records) {
  MatrixState scope = desired;
  widen_to_observation_scope(scope, records);
  return scope;
}

std::vector<std::string> widen_to_observation_scope(MatrixState& state, const LifecycleRecords& records) {
  std::vector<std::string> added;
  for (const auto& [key, user_id] : records.managed_accounts) {
    if (!state.accounts.count(key)) {
      Account gone;
      gone.key = key;
      gone.user_id = user_id;
      gone.localpart = user_id.substr(1, user_id.find(':') - 1);
      gone.status = AccountStatus::suspended;
      state.accounts[key] = gone;
      added.push_back(key);
    }
  }
  return added;
}

PassPlan plan_pass(MatrixState&& desired, const ObservedState& observed, const LifecycleRecords& records,
                   const LifecycleOptions& lifecycle, const DiffOptions& options) {
  return LifecycleDecider(std::move(desired), observed, records, lifecycle).run(options);
}

PassPlan plan_pass(const MatrixState& desired, const ObservedState& observed, const LifecycleRecords& records,
                   const LifecycleOptions& lifecycle, const DiffOptions& options) {
  return plan_pass(MatrixState(desired), observed, records, lifecycle, options);
}

std::optional<std::string> mass_change_refusal(const Plan& plan, const MassChangeFacts& facts,
                                               const Settings& settings) {
  const std::size_t archives = plan.count(ResourceChange::Action::archive);
  const std::size_t deletions = plan.count(ResourceChange::Action::destroy);
  const std::size_t suspensions = plan.count(ResourceChange::Action::suspend);
  const std::size_t total = archives + deletions + suspensions;
  const std::string what = "this pass would archive " + std::to_string(archives) + ", delete " +
                           std::to_string(deletions) + " and suspend " + std::to_string(suspensions) + " of " +
                           std::to_string(facts.managed) + " managed objects";
  const std::string override_hint = "; if that is intended, run again with --allow-mass-change";
  if (facts.desired_empty && facts.managed > 0) {
    return "the desired state is empty (no manifests or no database rows) while " + std::to_string(facts.managed) +
           " objects are managed; " + what + override_hint;
  }
  if (total == 0) {
    return std::nullopt;
  }
  // Without the store's records, a room removed from the desired state by
  // mistake and one removed on purpose look the same; an operator decides.
  if (facts.store_reset) {
    return "the state store knew none of the managed rooms on the homeserver (it is new, was emptied, or belongs "
           "elsewhere), and " + what + override_hint;
  }
  if (total * 100 > static_cast<std::size_t>(settings.mass_change_max_percent) * facts.managed) {
    const std::size_t percent = facts.managed == 0 ? 100 : (total * 100 + facts.managed - 1) / facts.managed;
    return what + " (" + std::to_string(percent) + "%), more than the limit of " +
           std::to_string(settings.mass_change_max_percent) + "% (massChangeMaxPercent)" + override_hint;
  }
  if (total > static_cast<std::size_t>(settings.mass_change_max_count)) {
    return what + ", more than the limit of " + std::to_string(settings.mass_change_max_count) +
           " (massChangeMaxCount)" + override_hint;
  }
  return std::nullopt;
}

}  // namespace model
