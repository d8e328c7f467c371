#pragma once
// What the last observation of a long-lived port found, kept for the next
// one: a controller's passes follow each other within seconds, and at
// instance scale re-reading everything is most of a pass that has little
// to do.
//
// Rooms: the snapshots behind the sync token and the rooms read from them;
// the next pass folds /sync's changes into these instead of parsing every
// stored snapshot. Valid for one token only: a store whose token differs (a
// pass that failed to save, another process's observation) means the
// memory is not the state behind it, and the store's snapshots are read.
//
// Accounts: /sync does not show what the admin API would (flags, profiles
// set there), so they are only taken again by a pass the port is told is
// targeted, for the same accounts, when nothing wrote to an account since
// and the rooms showed no member acting on their own membership or profile.

#include <atomic>
#include <map>
#include <set>
#include <optional>
#include <string>

#include "adapters/homeserver/sync_state.h"
#include "model/matrix_state.h"
#include "model/observed_state.h"

namespace adapters {

/// The last observation's room state, kept in memory between passes.
class RememberedRooms {
 public:
  /// True when this holds the state behind `sync_token` (non-empty).
  bool holds(const std::string& sync_token) const { return !m_token.empty() && m_token == sync_token; }

  /// Snapshots by room id, as a store holding the same token would have them.
  SnapshotBase snapshots() const { return snapshots_in(m_snapshots, m_digests); }
  /// The rooms read from snapshots(), by room id. An observation takes
  /// them out as it goes; it must then remember() or forget().
  std::map<std::string, BotRoom>& rooms() { return m_rooms; }

  /// Takes over what an observation read: `read`'s rooms, its token, and
  /// the snapshots it changed applied to `base` (the snapshots it folded
  /// into: snapshots() itself, or the store's, whose texts are then fetched
  /// once; if one cannot be, nothing is held). Call only once the
  /// observation succeeded; its token is what a store that saves it will
  /// hold.
  void remember(BotRooms&& read, const SnapshotBase& base);

  /// Holds nothing from now on (the next observation reads the store's).
  void forget();

 private:
  std::string m_token;
  std::map<std::string, std::string> m_snapshots;
  std::map<std::string, std::string> m_digests;  // snapshot_digest() of each of m_snapshots
  std::map<std::string, BotRoom> m_rooms;
};

/// The last observation's accounts, kept in memory between passes.
class RememberedAccounts {
 public:
  /// Copies into `out` the accounts (and cannot_suspend) last remembered
  /// for the same desired accounts and `suspended_by_us`; false, and
  /// `out` untouched, when there are none or they may be out of date.
  bool recall(const model::MatrixState& desired, const std::set<std::string>& suspended_by_us,
              model::ObservedState& out) const;
  /// Keeps `observed`'s accounts as observed for `desired` and `suspended_by_us`.
  void remember(const model::MatrixState& desired, const std::set<std::string>& suspended_by_us,
                const model::ObservedState& observed);
  /// Marks what is kept out of date (an account was written). Safe to call
  /// from any thread; the others only between passes.
  void forget() { m_valid = false; }

 private:
  std::atomic<bool> m_valid{false};
  std::map<std::string, model::Account> m_desired;
  std::set<std::string> m_suspended_by_us;
  std::map<std::string, model::Account> m_accounts;
  std::string m_cannot_suspend;
};

}  // namespace adapters
