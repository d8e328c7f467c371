#include "controller/planner.h"

#include <set>
#include <string>
#include <vector>

namespace controller {

namespace {

// Protection is remembered as declared, so it still holds once the object
// is gone from the desired state; objects not declared keep their record.
model::Result<void> record_protection(const model::MatrixState& desired, adapters::StateStore& store,
                                      std::set<std::string>& known) {
  auto set = [&](const std::string& address, bool is_protected) -> model::Result<void> {
    if (known.count(address) == static_cast<std::size_t>(is_protected)) {
      return {};
    }
    if (is_protected) {
      known.insert(address);
    } else {
      known.erase(address);
    }
    return store.set_protected(address, is_protected);
  };
  for (const auto& [key, room] : desired.rooms) {
    if (auto saved = set("room." + key, room.protect); !saved) {
      return saved;
    }
  }
  for (const auto& [key, account] : desired.accounts) {
    if (auto saved = set("account." + key, account.protect); !saved) {
      return saved;
    }
  }
  return {};
}

model::Result<model::LifecycleRecords> read_lifecycle_records(adapters::StateStore& store) {
  model::LifecycleRecords records;
  auto archives = store.archive_records();
  auto protection = store.protected_addresses();
  auto accounts = store.managed_accounts();
  if (!archives || !protection || !accounts) {
    return tl::unexpected(!archives ? archives.error() : !protection ? protection.error() : accounts.error());
  }
  records.archived_at = std::move(*archives);
  records.protected_addresses = std::move(*protection);
  records.managed_accounts = std::move(*accounts);
  return records;
}

}  // namespace

model::Result<PlannedPass> make_plan(model::MatrixState&& desired, adapters::HomeserverPort& port,
                                     adapters::StateStore& store, const model::DiffOptions& options,
                                     const model::LifecycleOptions& lifecycle) {
  auto records = read_lifecycle_records(store);
  if (!records) {
    return tl::unexpected(records.error());
  }
  if (auto saved = record_protection(desired, store, records->protected_addresses); !saved) {
    return tl::unexpected(saved.error());
  }
  adapters::ObserveHints hints;
  auto room_ids = store.room_ids();
  if (!room_ids) {
    return tl::unexpected(room_ids.error());
  }
  hints.room_ids = std::move(*room_ids);
  auto sent = store.messages_sent();
  if (!sent) {
    return tl::unexpected(sent.error());
  }
  hints.messages_sent = std::move(*sent);
  auto directs = store.directs_set();
  if (!directs) {
    return tl::unexpected(directs.error());
  }
  hints.directs_set = std::move(*directs);
  auto token = store.sync_token();
  auto snapshots = store.room_snapshots();
  if (!token || !snapshots) {
    return tl::unexpected(!token ? token.error() : snapshots.error());
  }
  hints.sync_token = *token;
  auto suspended = store.suspended_accounts();
  if (!suspended) {
    return tl::unexpected(suspended.error());
  }
  hints.suspended_accounts = std::move(*suspended);
  hints.room_snapshots = std::move(*snapshots);
  auto written = store.rooms_written();
  auto created = store.journaled_room_creations();
  if (!written || !created) {
    return tl::unexpected(!written ? written.error() : created.error());
  }
  hints.rooms_written = std::move(*written);
  hints.rooms_created = std::move(*created);
  // Observation also looks at the managed accounts no longer desired. They
  // are added to the desired state for it and taken out again: at instance
  // scale a widened copy cost as much as the diff.
  const std::vector<std::string> widened = model::widen_to_observation_scope(desired, *records);
  auto observed = port.observe(desired, hints);
  for (const std::string& key : widened) {
    desired.accounts.erase(key);
  }
  if (!observed) {
    return tl::unexpected(observed.error());
  }
  // Remember what was found, so the next pass (and apply) can address rooms
  // by id even if this one stops here; this is how a lost store heals.
  for (const auto& [key, room_id] : observed->room_ids) {
    auto known = hints.room_ids.find(key);
    if (known == hints.room_ids.end() || known->second != room_id) {
      if (auto saved = store.set_room_id(key, room_id); !saved) {
        return tl::unexpected(saved.error());
      }
    }
  }
  // The token and the state behind it go together, so the next pass can
  // read only what changed since this one looked.
  if (auto saved = store.save_observation(observed->sync_token, observed->changed_snapshots); !saved) {
    return tl::unexpected(saved.error());
  }
  // The rooms written were re-read, and what was read is saved: only later
  // writes need re-reading. (Cleared after the save: a crash in between
  // costs a second re-read, never a missed one.)
  if (auto cleared = store.clear_rooms_written(hints.rooms_written); !cleared) {
    return tl::unexpected(cleared.error());
  }
  // What the server showed was sent is remembered, so the check is not repeated.
  for (const std::string& key : observed->state.messages_sent) {
    if (!hints.messages_sent.count(key)) {
      if (auto saved = store.mark_message_sent(key); !saved) {
        return tl::unexpected(saved.error());
      }
    }
  }
  observed->state.messages_sent.insert(hints.messages_sent.begin(), hints.messages_sent.end());
  for (const auto& [key, user] : observed->state.directs_set) {
    if (!hints.directs_set.count({key, user})) {
      if (auto saved = store.mark_direct_set(key, user); !saved) {
        return tl::unexpected(saved.error());
      }
    }
  }
  observed->state.directs_set.insert(hints.directs_set.begin(), hints.directs_set.end());
  // Accounts that are declared and exist are ours from now on: if they
  // disappear from the desired state they are suspended, not forgotten.
  for (const auto& [key, account] : observed->state.accounts) {
    auto want = desired.accounts.find(key);
    auto known = records->managed_accounts.find(key);
    if (want != desired.accounts.end() &&
        (known == records->managed_accounts.end() || known->second != account.user_id)) {
      if (auto saved = store.remember_account(key, account.user_id); !saved) {
        return tl::unexpected(saved.error());
      }
      records->managed_accounts[key] = account.user_id;
    }
  }
  PlannedPass pass;
  pass.mass_change.desired_empty = desired.rooms.empty() && desired.accounts.empty();
  model::PassPlan planned = model::plan_pass(std::move(desired), observed->state, *records, lifecycle, options);
  pass.plan = std::move(planned.plan);
  pass.desired = std::move(planned.desired);
  pass.mass_change.managed = observed->state.rooms.size() + observed->state.accounts.size();
  pass.observation = std::move(*observed);
  return pass;
}

model::Result<PlannedPass> make_plan(const model::MatrixState& desired, adapters::HomeserverPort& port,
                                     adapters::StateStore& store, const model::DiffOptions& options,
                                     const model::LifecycleOptions& lifecycle) {
  return make_plan(model::MatrixState(desired), port, store, options, lifecycle);
}

}  // namespace controller
