#include "controller/planner.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "model/naming.h"

namespace controller {

namespace {

// Protection is remembered as declared, so it still holds once the object
// is gone from the desired state; objects not declared keep their record.
// `known` follows the declaration either way; the store only when `write`.
model::Result<void> record_protection(const model::MatrixState& desired, adapters::LifecycleStore& store,
                                      std::set<std::string>& known, bool write) {
  auto set = [&](const std::string& address, bool is_protected) -> model::Result<void> {
    if (known.count(address) == static_cast<std::size_t>(is_protected)) {
      return {};
    }
    if (is_protected) {
      known.insert(address);
    } else {
      known.erase(address);
    }
    return write ? store.set_protected(address, is_protected) : model::Result<void>{};
  };
  for (const auto& [key, room] : desired.rooms) {
    if (auto saved = set(model::room_address(key), room.protect); !saved) {
      return saved;
    }
  }
  for (const auto& [key, account] : desired.accounts) {
    if (auto saved = set(model::account_address(key), account.protect); !saved) {
      return saved;
    }
  }
  return {};
}

model::Result<model::LifecycleRecords> read_lifecycle_records(adapters::LifecycleStore& store) {
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

// The store's hints; its room snapshots only when the port does not hold
// the state behind the store's token itself. The hints fetch from `store`:
// it must outlive them.
model::Result<adapters::ObserveHints> read_hints(adapters::StateStore& store, const adapters::HomeserverPort& port) {
  adapters::ObserveHints hints;
  auto room_ids = store.room_ids();
  auto sent = store.messages_sent();
  auto directs = store.directs_set();
  auto token = store.sync_token();
  model::Result<std::map<std::string, std::string>> snapshots = std::map<std::string, std::string>{};
  if (!token || !port.holds_room_state(*token)) {
    snapshots = store.room_snapshot_digests();
    // Texts only for the rooms observation must read; a store that cannot
    // give one costs a full read.
    hints.room_snapshot = [&store](const std::string& room_id) -> std::optional<std::string> {
      auto text = store.room_snapshot(room_id);
      return text ? *text : std::nullopt;
    };
    // Kept reads only spare parsing, and only when a room must be read: a
    // store that cannot give them costs time.
    hints.load_room_reads = [&store] {
      auto reads = store.room_reads();
      return reads ? std::move(*reads) : std::map<std::string, adapters::KeptRoomRead>{};
    };
  }
  auto suspended = store.suspended_accounts();
  auto written = store.rooms_written();
  auto created = store.journaled_room_creations();
  for (const model::Error* error :
       {room_ids ? nullptr : &room_ids.error(), sent ? nullptr : &sent.error(),
        directs ? nullptr : &directs.error(), token ? nullptr : &token.error(),
        snapshots ? nullptr : &snapshots.error(), suspended ? nullptr : &suspended.error(),
        written ? nullptr : &written.error(), created ? nullptr : &created.error()}) {
    if (error != nullptr) {
      return tl::unexpected(*error);
    }
  }
  hints.room_ids = std::move(*room_ids);
  hints.messages_sent = std::move(*sent);
  hints.directs_set = std::move(*directs);
  hints.sync_token = std::move(*token);
  hints.room_snapshot_digests = std::move(*snapshots);
  hints.suspended_accounts = std::move(*suspended);
  hints.rooms_written = std::move(*written);
  hints.rooms_created = std::move(*created);
  return hints;
}

// How many rooms carry this instance's marker, when the store knew the id
// of none of them. A store that has taken part in a pass knows every room
// it found, so knowing none means the records are gone: a new or emptied
// file, or a store kept for another deployment.
std::optional<std::size_t> store_reset(const adapters::ObserveHints& hints, const adapters::Observation& observed) {
  if (observed.room_ids.empty()) {
    return std::nullopt;
  }
  std::set<std::string> known;
  for (const auto& [key, room_id] : hints.room_ids) {
    known.insert(room_id);
  }
  for (const auto& [key, room_id] : observed.room_ids) {
    if (known.count(room_id)) {
      return std::nullopt;
    }
  }
  return observed.room_ids.size();
}

// The plan's word on a store that knew none of the rooms: what it lost and
// what this pass does instead.
std::string store_reset_warning(std::size_t rooms, bool created) {
  return std::string("the state store knew none of the ") + std::to_string(rooms) +
         (rooms == 1 ? " room" : " rooms") + " on the homeserver that carry this instance's marker (" +
         (created ? "it is new or was emptied" : "it was reset, or belongs to another deployment") +
         "): room ids, archive dates and protection are taken from the rooms' markers, accounts it does not know "
         "are never suspended, and nothing is archived, deleted or suspended without --allow-mass-change";
}

// What a lock holder keeps of an observation, in the order that makes a
// crash between two steps cost a second read, never a missed change.
model::Result<void> keep_observation(adapters::ObservationCache& store, const adapters::ObserveHints& hints,
                                     const adapters::Observation& observed) {
  // A room taken over from an upgrade: the m.direct entries the store
  // recorded name the old room.
  for (const auto& [key, room] : observed.state.rooms) {
    if (room.marker_missing) {
      if (auto forgot = store.forget_directs(key); !forgot) {
        return forgot;
      }
    }
  }
  // Remember what was found, so the next pass (and apply) can address rooms
  // by id even if this one stops here; this is how a lost store heals.
  for (const auto& [key, room_id] : observed.room_ids) {
    auto known = hints.room_ids.find(key);
    if (known == hints.room_ids.end() || known->second != room_id) {
      if (auto saved = store.set_room_id(key, room_id); !saved) {
        return saved;
      }
    }
  }
  // The token and the state behind it go together, so the next pass can
  // read only what changed since this one looked.
  if (auto saved = store.save_observation(observed.sync_token, observed.changed_snapshots); !saved) {
    return saved;
  }
  // The rooms written were re-read, and what was read is saved: only later
  // writes need re-reading. (Cleared after the save: a crash in between
  // costs a second re-read, never a missed one.)
  if (auto cleared = store.clear_rooms_written(hints.rooms_written); !cleared) {
    return cleared;
  }
  // What the server showed was sent is remembered, so the check is not repeated.
  for (const std::string& key : observed.state.messages_sent) {
    if (!hints.messages_sent.count(key)) {
      if (auto saved = store.mark_message_sent(key); !saved) {
        return saved;
      }
    }
  }
  for (const auto& [key, user] : observed.state.directs_set) {
    if (!hints.directs_set.count({key, user})) {
      if (auto saved = store.mark_direct_set(key, user); !saved) {
        return saved;
      }
    }
  }
  return {};
}

// What a reader keeps: the same cache, in one transaction, unless a pass
// holds the lock. Returns why nothing was kept, or nothing.
// `read_only`: the store was opened for reading only.
std::string keep_cache(adapters::ObservationCache& store, bool read_only, const adapters::ObserveHints& hints,
                       const adapters::Observation& observed) {
  const char* lost = "; the next pass reads from the homeserver what this one could not keep";
  if (read_only) {
    return std::string("the state store cannot be written, so this plan kept nothing (not even its observation "
                       "cache)") + lost;
  }
  adapters::CacheUpdate cache;
  for (const auto& [key, room_id] : observed.room_ids) {
    auto known = hints.room_ids.find(key);
    if (known == hints.room_ids.end() || known->second != room_id) {
      cache.room_ids.emplace(key, room_id);
    }
  }
  cache.sync_token = observed.sync_token;
  cache.changed_snapshots = observed.changed_snapshots;
  cache.rooms_reread = hints.rooms_written;
  for (const std::string& key : observed.state.messages_sent) {
    if (!hints.messages_sent.count(key)) {
      cache.messages_sent.insert(key);
    }
  }
  for (const auto& direct : observed.state.directs_set) {
    if (!hints.directs_set.count(direct)) {
      cache.directs_set.insert(direct);
    }
  }
  auto saved = store.save_cache_unless_locked(cache);
  if (!saved) {
    return "could not save the observation cache (" + saved.error().message + ")" + lost;
  }
  if (!*saved) {
    return std::string("a pass holds the lock, so this plan did not save its observation cache") + lost;
  }
  return {};
}

// Whether keeping `observed` changes anything in the store but the sync
// token and the kept reads (which only spare work).
bool changes_store(const adapters::ObserveHints& hints, const adapters::Observation& observed) {
  if (!observed.changed_snapshots.empty()) {
    return true;
  }
  for (const auto& [key, room_id] : observed.room_ids) {
    auto known = hints.room_ids.find(key);
    if (known == hints.room_ids.end() || known->second != room_id) {
      return true;
    }
  }
  for (const auto& [key, room] : observed.state.rooms) {
    if (room.marker_missing) {
      return true;
    }
  }
  return !std::includes(hints.messages_sent.begin(), hints.messages_sent.end(), observed.state.messages_sent.begin(),
                        observed.state.messages_sent.end()) ||
         !std::includes(hints.directs_set.begin(), hints.directs_set.end(), observed.state.directs_set.begin(),
                        observed.state.directs_set.end());
}

// The pass a kept verdict answers: nothing to do, and the sync token
// `next_batch` to keep.
model::Result<PlannedPass> unchanged_pass(adapters::ObservationCache& store, const std::string& next_batch) {
  if (auto saved = store.save_observation(next_batch, {}); !saved) {
    return tl::unexpected(saved.error());
  }
  PlannedPass pass;
  pass.observation.sync_token = next_batch;
  pass.observation.incremental = true;
  pass.unchanged = true;
  return pass;
}

}  // namespace

model::Result<PlannedPass> make_plan(model::MatrixState&& desired, adapters::HomeserverPort& port,
                                     adapters::StateStore& store, const model::DiffOptions& options,
                                     const model::LifecycleOptions& lifecycle, StoreWrites writes) {
  return make_plan([&]() -> model::Result<model::MatrixState> { return std::move(desired); }, nullptr, port, store,
                   options, lifecycle, writes);
}

model::Result<PlannedPass> make_plan(const DesiredLoader& load_desired, const VerdictBasis* verdict,
                                     adapters::HomeserverPort& port, adapters::StateStore& store,
                                     const model::DiffOptions& options, const model::LifecycleOptions& lifecycle,
                                     StoreWrites writes) {
  const bool write_all = writes == StoreWrites::all;
  auto records = read_lifecycle_records(store);
  if (!records) {
    return tl::unexpected(records.error());
  }
  auto hints = read_hints(store, port);
  if (!hints) {
    return tl::unexpected(hints.error());
  }
  // The converged verdict, when this pass may keep and use one.
  const std::string port_basis = verdict && write_all ? port.observation_basis() : std::string();
  const bool judged = !port_basis.empty() && hints->rooms_written.empty();
  std::optional<adapters::ConvergedVerdict> kept_verdict;
  if (judged) {
    // A verdict that cannot be read is none: the pass plans in full.
    auto kept = store.converged_verdict();
    kept_verdict = kept ? *kept : std::nullopt;
  }
  auto key_until = [&](std::int64_t valid_until_ms) {
    return verdict_key(*verdict, port_basis, *hints, *records, options, lifecycle.grace_period_days, valid_until_ms);
  };
  if (kept_verdict && lifecycle.now < kept_verdict->valid_until_ms &&
      key_until(kept_verdict->valid_until_ms) == kept_verdict->key) {
    auto unchanged = port.unchanged_since(*hints, kept_verdict->replay);
    if (!unchanged) {
      return tl::unexpected(unchanged.error());
    }
    if (*unchanged) {
      return unchanged_pass(store, **unchanged);
    }
  }
  auto loaded = load_desired();
  if (!loaded) {
    return tl::unexpected(loaded.error());
  }
  model::MatrixState& desired = *loaded;
  const std::set<std::string> protected_before = records->protected_addresses;
  if (auto saved = record_protection(desired, store, records->protected_addresses, write_all); !saved) {
    return tl::unexpected(saved.error());
  }
  bool store_changed = records->protected_addresses != protected_before;
  // Observation also looks at the managed accounts no longer desired. They
  // are added to the desired state for it and taken out again: at instance
  // scale a widened copy cost as much as the diff.
  const std::vector<std::string> widened = model::widen_to_observation_scope(desired, *records);
  auto observed = port.observe(desired, *hints);
  for (const std::string& key : widened) {
    desired.accounts.erase(key);
  }
  if (!observed) {
    return tl::unexpected(observed.error());
  }
  PlannedPass pass;
  pass.store_reset = store_reset(*hints, *observed);
  store_changed = store_changed || changes_store(*hints, *observed);
  if (write_all) {
    if (auto kept = keep_observation(store, *hints, *observed); !kept) {
      return tl::unexpected(kept.error());
    }
  } else {
    pass.cache_note = keep_cache(store, store.read_only(), *hints, *observed);
  }
  // After the snapshots they were read from are saved (rooms without one
  // lose their reads). Best effort: kept reads only spare the next pass
  // parsing snapshots.
  if (!observed->room_reads.empty() && !store.read_only()) {
    (void)store.keep_room_reads(observed->room_reads);
  }
  observed->state.messages_sent.insert(hints->messages_sent.begin(), hints->messages_sent.end());
  // The store's m.direct records name keys; a room just taken over from an
  // upgrade was asked about afresh (DM entries name the old room).
  for (const auto& direct : hints->directs_set) {
    auto room = observed->state.rooms.find(direct.first);
    if (room == observed->state.rooms.end() || !room->second.marker_missing) {
      observed->state.directs_set.insert(direct);
    }
  }
  // Accounts that are declared and exist are ours from now on: if they
  // disappear from the desired state they are suspended, not forgotten.
  for (const auto& [key, account] : observed->state.accounts) {
    auto want = desired.accounts.find(key);
    auto known = records->managed_accounts.find(key);
    if (want != desired.accounts.end() &&
        (known == records->managed_accounts.end() || known->second != account.user_id)) {
      if (write_all) {
        if (auto saved = store.remember_account(key, account.user_id); !saved) {
          return tl::unexpected(saved.error());
        }
      }
      records->managed_accounts[key] = account.user_id;
      store_changed = true;
    }
  }
  pass.mass_change.desired_empty = desired.rooms.empty() && desired.accounts.empty();
  pass.mass_change.store_reset = pass.store_reset.has_value();
  model::PassPlan planned = model::plan_pass(std::move(desired), observed->state, *records, lifecycle, options);
  pass.plan = std::move(planned.plan);
  if (pass.store_reset) {
    pass.plan.warnings.push_back(store_reset_warning(*pass.store_reset, store.created()));
  }
  // Nothing to do, nothing learnt: the next pass over the same inputs is
  // this one again. Best effort: without a verdict a pass only plans.
  if (judged && observed->replay && !store_changed && pass.plan.empty() && pass.plan.warnings.empty() &&
      !pass.mass_change.desired_empty) {
    adapters::ConvergedVerdict fresh;
    fresh.valid_until_ms = verdict_valid_until(observed->state, *records, lifecycle.grace_period_days);
    fresh.key = key_until(fresh.valid_until_ms);
    fresh.replay = *observed->replay;
    if (!kept_verdict || !(*kept_verdict == fresh)) {
      (void)store.keep_converged_verdict(fresh);
    }
  }
  pass.desired = std::move(planned.desired);
  pass.mass_change.managed = observed->state.rooms.size() + observed->state.accounts.size();
  pass.observation = std::move(*observed);
  return pass;
}

model::Result<PlannedPass> make_plan(const model::MatrixState& desired, adapters::HomeserverPort& port,
                                     adapters::StateStore& store, const model::DiffOptions& options,
                                     const model::LifecycleOptions& lifecycle, StoreWrites writes) {
  return make_plan(model::MatrixState(desired), port, store, options, lifecycle, writes);
}

}  // namespace controller
