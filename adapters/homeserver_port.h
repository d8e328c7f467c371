#pragma once
// Everything the controller may see or change on a homeserver, behind one
// small interface: one read (observe) and one write (execute). The real
// implementation is HttpHomeserver; tests may also drive it against mxsim.

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "adapters/observation_cache.h"
#include "model/matrix_state.h"
#include "model/observed_state.h"
#include "model/plan.h"
#include "model/result.h"

namespace adapters {

/// What the controller already knows when it observes: the state store's
/// key → room id map and the sync token of the last pass (empty for a full read).
struct ObserveHints {
  std::map<std::string, std::string> room_ids;
  std::string sync_token;
  /// Rooms whose once-message the store knows was sent; the others are
  /// checked on the server (a lost store must not send it twice).
  std::set<std::string> messages_sent;
  /// (room key, user id) pairs whose m.direct the store knows was set; the
  /// others are checked on the server for DMs that exist.
  std::set<std::pair<std::string, std::string>> directs_set;
  /// The room state behind `sync_token`: each room's snapshot (a JSON
  /// array of state events) by its snapshot_digest(), by room id; with
  /// both, observation asks the server for changes only. Left empty when
  /// the port holds that state itself (holds_room_state).
  std::map<std::string, std::string> room_snapshot_digests;
  /// One room's snapshot text, asked for only when observation needs it
  /// (the rooms /sync mentions, and those without a matching kept read);
  /// nothing when it cannot be had, which costs a full read.
  std::function<std::optional<std::string>(const std::string& room_id)> room_snapshot;
  /// Reads of those snapshots kept by an earlier pass, by room id: a room
  /// whose kept read matches its snapshot need not be parsed again.
  std::map<std::string, KeptRoomRead> room_reads;
  /// When set, stands for `room_reads`, which are then loaded only if a
  /// room must be read (a /sync that names no room needs none).
  std::function<std::map<std::string, KeptRoomRead>()> load_room_reads;
  /// Room ids mxctl wrote to since `sync_token` was taken (the store's
  /// rooms_written): each is re-read in full with GET /rooms/{id}/state,
  /// not folded from /sync, which on Synapse can miss a change when
  /// concurrent writes fork a room's event graph.
  std::set<std::string> rooms_written;
  /// Keys of rooms whose creation mxctl's journal records. A room holding
  /// such a key's alias that the bot created, but whose marker cannot be
  /// read yet, is waited for (Synapse registers the alias before the room's
  /// initial state is readable) instead of being taken for a clash.
  std::set<std::string> rooms_created;
  /// Keys of accounts mxctl suspended: their status is read one by one
  /// (with the accounts the desired state wants suspended), because
  /// Synapse's user list does not show suspension.
  std::set<std::string> suspended_accounts;
};

/// The reads (GETs) an observation made besides its /sync, for a later pass
/// to make again: the same answers and a /sync that names no room mean the
/// server shows what it showed then.
struct ReadReplay {
  /// The paths, in the order they were read.
  std::vector<std::string> paths;
  /// SHA-256 (hex) over the paths and their answers' bytes, in order.
  std::string digest;
  bool operator==(const ReadReplay&) const = default;
};

/// An observation plus what must be remembered for the next pass.
struct Observation {
  model::ObservedState state;
  /// key → room id of every managed room found (to save in the store).
  std::map<std::string, std::string> room_ids;
  /// Token for the next incremental observation.
  std::string sync_token;
  /// Snapshots that changed in this observation (nullopt: the room is gone),
  /// to be saved with `sync_token`.
  std::map<std::string, std::optional<std::string>> changed_snapshots;
  /// The observation read only changes since the hinted token.
  bool incremental = false;
  /// Rooms read from snapshots that had no matching kept read: to keep
  /// (ObservationCache::keep_room_reads) for the next pass.
  std::map<std::string, KeptRoomRead> room_reads;
  /// Set when the observation read changes with one incremental /sync and
  /// otherwise only what `replay` names (no writes, no reads in full, no
  /// read that failed): unchanged_since() can then tell a later pass
  /// whether anything it read has changed.
  std::optional<ReadReplay> replay;
};

/// Everything an operation needs beyond itself: the desired state it was
/// planned from (for contents) and the room ids known so far (updated by the
/// executor as rooms are created, so dependants can refer to them).
struct ExecutionContext {
  const model::MatrixState* desired = nullptr;
  std::map<std::string, std::string> room_ids;
};

/// What a successful operation produced.
struct OperationOutcome {
  /// For create_room: the new (or adopted) room's id.
  std::optional<std::string> room_id;
  /// Set when the operation found its work already done (e.g. the alias
  /// existed with our marker), so nothing was written.
  bool already_done = false;
  /// Set by a port that only pretends (a dry run's): nothing was sent, so
  /// the operation would run and no attempt is counted.
  bool simulated = false;
};

/// The homeserver as the controller sees it.
class HomeserverPort {
 public:
  virtual ~HomeserverPort() = default;

  /// The observed state of every account and room in `desired`. Rooms are
  /// found through `hints.room_ids`, then the alias, then the marker; a room
  /// holding our alias without our marker is reported in `alias_clashes`
  /// (after a bounded wait for the marker when `hints.rooms_created` has
  /// the key and the bot created the room). Every room of
  /// `hints.rooms_written` has been read afresh when this succeeds.
  /// Absent objects are simply missing; an error means nothing is known.
  virtual model::Result<Observation> observe(const model::MatrixState& desired, const ObserveHints& hints) = 0;

  /// True when the port keeps, from its own last observation, the room
  /// state behind `sync_token`, so observe() needs no room_snapshots for it
  /// (a long-running controller's port; a pass's never does).
  virtual bool holds_room_state(const std::string& sync_token) const {
    (void)sync_token;
    return false;
  }

  /// Whether the server shows what it showed an observation that ended at
  /// `hints.sync_token` and made `replay`'s reads: the reads answer the
  /// same bytes and an incremental /sync names no room. Returns the /sync's
  /// next_batch when so; nothing when anything changed, or when the port
  /// cannot tell (the default). Rooms a /sync named are kept for the next
  /// observe() with the same hints, which then does not ask for them again.
  virtual model::Result<std::optional<std::string>> unchanged_since(const ObserveHints& hints,
                                                                    const ReadReplay& replay) {
    (void)hints;
    (void)replay;
    return std::nullopt;
  }

  /// What an observation by this port depends on besides the server's
  /// answers and the hints (its build, settings and what the probe found),
  /// as bytes; empty when the port cannot say, and then no pass is judged
  /// unchanged.
  virtual std::string observation_basis() const { return {}; }

  /// Carries out one operation. Must be safe to repeat after a timeout or a
  /// crash: creations are keyed by alias, messages by transaction id.
  virtual model::Result<OperationOutcome> execute(const model::Operation& operation,
                                                  const ExecutionContext& context) = 0;
};

}  // namespace adapters
