#pragma once
// How managed objects leave (FT-17, seed 000): a room that is no longer
// desired, or is marked archived, is archived (posting closed, name and topic
// say so, invite-only, space links kept so a restore is exact); it comes back
// exactly if it reappears within the grace period, and is hard-deleted once
// the period is over. A person who is deactivated or gone is demoted, removed
// from councils and coordination rooms, and suspended, never erased.
//
// Pure: time, the store's records and the observation come in as values, so
// every boundary (day 59, 60, 61, a clock going backwards) is a unit test.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "model/diff.h"
#include "model/matrix_state.h"
#include "model/observed_state.h"
#include "model/plan.h"
#include "model/settings.h"

namespace model {

/// What the state store remembers that the lifecycle needs.
struct LifecycleRecords {
  /// Archive time (ms since the epoch) by room key, as recorded when the
  /// archive was applied. The room's own archive event wins when present.
  std::map<std::string, std::int64_t> archived_at;
  /// Addresses ("room.<key>", "account.<key>") last declared `protect: true`,
  /// so protection outlives the object's removal from the desired state. A
  /// room's marker says so too (`protect: true`), for a store that lost it.
  std::set<std::string> protected_addresses;
  /// Accounts mxctl manages (key → MXID), including ones no longer desired.
  std::map<std::string, std::string> managed_accounts;
};

/// The clock and the policy of one pass.
struct LifecycleOptions {
  /// Now, in ms since the epoch (injectable: `--now`).
  std::int64_t now = 0;
  int grace_period_days = 60;
};

/// Milliseconds in `days` days.
std::int64_t days_ms(int days);

/// The desired state widened by the managed accounts that are no longer
/// desired (profile-less, suspended), so that observation looks at them too.
MatrixState observation_scope(const MatrixState& desired, const LifecycleRecords& records);

/// observation_scope in place: adds to `state` the accounts it would and
/// returns their keys, so that a caller done observing can erase them and
/// have its desired state back without having copied it.
std::vector<std::string> widen_to_observation_scope(MatrixState& state, const LifecycleRecords& records);

/// A pass's plan and the desired state the executor must carry it out
/// against: `desired` plus the archived forms of rooms no longer desired and
/// the suspended accounts of people gone.
struct PassPlan {
  MatrixState desired;
  Plan plan;
};

/// The plan of one pass: the diff of `desired` against `observed` after the
/// lifecycle has decided, for every managed object, whether it is kept,
/// archived (a `archive` change, with its deletion date), restored (a
/// `restore` change), hard-deleted (a `destroy` change with one delete_room
/// operation; children before their space) or suspended (a `suspend` change).
/// Only rooms carrying our marker (i.e. in `observed.rooms`) and accounts in
/// `records.managed_accounts` can be archived, deleted or suspended (an
/// account the store does not know is never suspended).
/// A declared room is protected as declared; one no longer declared is
/// protected when either the store or its marker says so.
/// A room is deleted only once it is archived on the server (its archive
/// event is there) and `now` >= archived_at + grace period; a clock that went
/// backwards therefore never deletes. A protected object that would be
/// deleted, or is removed from the desired state, becomes an `error` change.
/// Takes `desired` over: PassPlan::desired is it, amended in place, so a
/// caller that no longer needs it pays for no copy.
PassPlan plan_pass(MatrixState&& desired, const ObservedState& observed, const LifecycleRecords& records,
                   const LifecycleOptions& lifecycle, const DiffOptions& options);

/// plan_pass on a copy of `desired`, for callers that keep theirs; the same
/// plan and PassPlan::desired as the overload above.
PassPlan plan_pass(const MatrixState& desired, const ObservedState& observed, const LifecycleRecords& records,
                   const LifecycleOptions& lifecycle, const DiffOptions& options);

/// The topic of an archived room: "Archived on D; it will be deleted on E."
std::string archive_topic(std::int64_t archived_at, int grace_period_days);

/// What the mass-change guard looks at.
struct MassChangeFacts {
  /// Managed objects that exist: marked rooms plus managed accounts.
  std::size_t managed = 0;
  /// The desired state holds no room and no account at all (an empty
  /// manifest set, an empty database result).
  bool desired_empty = false;
  /// The state store knew none of the rooms carrying this instance's
  /// marker (new, emptied, or another deployment's): what it would have
  /// said about them is not there to say it.
  bool store_reset = false;
};

/// Why a pass must stop before doing anything, or nothing when it may go
/// on: it would archive, delete or suspend more than
/// `settings.mass_change_max_percent` % of the managed objects or more than
/// `settings.mass_change_max_count` of them, or the desired state is empty
/// while objects are managed (always refused), or the store was reset and
/// it would archive, delete or suspend anything at all.
std::optional<std::string> mass_change_refusal(const Plan& plan, const MassChangeFacts& facts,
                                               const Settings& settings);

}  // namespace model
