#pragma once
// The observation cache role of the state store: what passes learnt from the
// homeserver and keep so the next one can observe less. All of it can be
// rebuilt from the homeserver, so losing it costs time, never correctness.
//
// Room ids, sent once-messages and m.direct entries belong here rather than
// with the lifecycle records: each is a fact the homeserver also shows (the
// alias and marker, the message in the room, the account data), and a plan,
// which may not write lifecycle records, keeps them with its observation.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "model/result.h"

namespace adapters {

/// What a pass that does not hold the lock (a plan) learnt and may keep, as
/// one save_cache_unless_locked() call writes it.
struct CacheUpdate {
  /// key → room id of rooms found whose id the store did not have.
  std::map<std::string, std::string> room_ids;
  /// The token the observation ends at and the snapshots that changed
  /// (nullopt: the room is gone), as save_observation takes them.
  std::string sync_token;
  std::map<std::string, std::optional<std::string>> changed_snapshots;
  /// Rooms re-read in full, to forget from rooms_written.
  std::set<std::string> rooms_reread;
  /// Once-messages and m.direct entries found on the server.
  std::set<std::string> messages_sent;
  std::set<std::pair<std::string, std::string>> directs_set;
};

/// What a probe of the homeserver found, kept so that the next passes need
/// not ask again while it is fresh.
struct KeptProbe {
  /// Whom it is about: the server, the bot, and a digest of its token.
  std::string key;
  /// The capabilities, as JSON (adapters/homeserver/capabilities_json.h).
  std::string answer;
  /// When it was asked, in milliseconds since the epoch.
  std::int64_t taken_at_ms = 0;
};

/// One room as a pass read it from its snapshot, kept so that the next pass
/// need not parse the same snapshot again.
struct KeptRoomRead {
  /// Digest of what the read came from: mxctl's build, the settings and the
  /// snapshot's digest; a read whose digest does not match is not used.
  std::string digest;
  /// The read, as the homeserver adapter encodes it.
  std::string read;
  bool operator==(const KeptRoomRead&) const = default;
};

/// The digest a room snapshot's text is known by (SHA-256, hex).
std::string snapshot_digest(std::string_view text);

/// Room ids, sent messages, m.direct entries, the sync token, room snapshots
/// and the reads of them, the rooms written since the last observation, and
/// the last probe.
class ObservationCache {
 public:
  virtual ~ObservationCache() = default;

  /// key → room id of every managed room; empty when none.
  virtual model::Result<std::map<std::string, std::string>> room_ids() = 0;
  /// Records (or replaces) the room id of `key`.
  virtual model::Result<void> set_room_id(const std::string& key, const std::string& room_id) = 0;
  /// Forgets `key`, its sent message and m.direct records (the room is gone).
  virtual model::Result<void> forget_room(const std::string& key) = 0;

  /// Keys of rooms whose once-message was sent.
  virtual model::Result<std::set<std::string>> messages_sent() = 0;
  /// Records that the once-message of `key` was sent; repeating does nothing.
  virtual model::Result<void> mark_message_sent(const std::string& key) = 0;

  /// (room key, user id) pairs whose m.direct entry mxctl has set.
  virtual model::Result<std::set<std::pair<std::string, std::string>>> directs_set() = 0;
  /// Records that mxctl set `user_id`'s m.direct entry for `room_key`.
  virtual model::Result<void> mark_direct_set(const std::string& room_key, const std::string& user_id) = 0;
  /// Forgets the m.direct records of `room_key`, whose room was replaced
  /// (by an upgrade): the entries they stand for name the old room.
  virtual model::Result<void> forget_directs(const std::string& room_key) = 0;

  /// The sync token of the last observation; empty when none.
  virtual model::Result<std::string> sync_token() = 0;
  /// Replaces the sync token.
  virtual model::Result<void> set_sync_token(const std::string& token) = 0;

  /// The room state as last observed, by room id (a JSON array of state
  /// events each), which incremental observation brings up to date.
  virtual model::Result<std::map<std::string, std::string>> room_snapshots() = 0;
  /// The snapshot_digest() of each room's snapshot, by room id: what a pass
  /// needs of the rooms /sync does not mention, without their texts.
  virtual model::Result<std::map<std::string, std::string>> room_snapshot_digests() = 0;
  /// One room's snapshot; nothing when the store has none for it.
  virtual model::Result<std::optional<std::string>> room_snapshot(const std::string& room_id) = 0;
  /// Records, in one transaction, the sync token an observation ends at and
  /// the snapshots that changed (nullopt: the room is gone), so that the
  /// token and snapshots always match and the next pass reads only changes.
  virtual model::Result<void> save_observation(
      const std::string& sync_token, const std::map<std::string, std::optional<std::string>>& changed) = 0;
  /// Saves `update` in one transaction unless a pass holds the lock (a room
  /// it marks written could be forgotten before it is re-read). True when
  /// saved, false while a holder's lease runs.
  virtual model::Result<bool> save_cache_unless_locked(const CacheUpdate& update) = 0;

  /// Room ids mxctl wrote to since the observation last saved. Concurrent
  /// writes can fork a room's event graph on Synapse, and /sync then misses
  /// a change on one branch, so the next observation re-reads these in full.
  virtual model::Result<std::set<std::string>> rooms_written() = 0;
  /// Records that mxctl wrote to `room_id`; repeating does nothing.
  virtual model::Result<void> mark_room_written(const std::string& room_id) = 0;
  /// Forgets `room_ids` (an observation re-read them and is saved); ids not
  /// recorded are ignored.
  virtual model::Result<void> clear_rooms_written(const std::set<std::string>& room_ids) = 0;

  /// The reads kept beside the room snapshots, by room id; empty when none.
  virtual model::Result<std::map<std::string, KeptRoomRead>> room_reads() = 0;
  /// Keeps `reads` in place of those kept for the same rooms, and forgets
  /// the reads of rooms that no longer have a snapshot.
  virtual model::Result<void> keep_room_reads(const std::map<std::string, KeptRoomRead>& reads) = 0;

  /// The probe kept last; nothing when none was.
  virtual model::Result<std::optional<KeptProbe>> kept_probe() = 0;
  /// Keeps `probe` in place of the one kept before.
  virtual model::Result<void> keep_probe(const KeptProbe& probe) = 0;
};

}  // namespace adapters
