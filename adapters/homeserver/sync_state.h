#pragma once
// The state of the bot's rooms as /sync reports it, read room by room. An
// initial sync gives every room's full state; an incremental one gives only
// what changed (in the state block, and for Synapse sometimes in the
// timeline), newly joined rooms in full, and the rooms left. Folding an
// incremental answer into the snapshot of the previous pass reproduces the
// current state.
//
// At instance scale the answer is large (60 MB for 6,000 rooms), and held
// whole as a JSON document it takes ten times that. So each joined room is
// taken out of the answer as soon as the parser has it, turned into the
// model's ObservedRoom and a compact snapshot, and dropped (issue #7's
// memory bound).

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "adapters/homeserver/matrix_client.h"
#include "adapters/observation_cache.h"
#include "model/observed_state.h"
#include "model/result.h"
#include "model/settings.h"

namespace adapters {

/// One room's current state events by (type, state_key).
using RoomState = std::map<std::pair<std::string, std::string>, nlohmann::json>;

/// A state event reduced to what mxctl reads: type, state_key, sender and
/// content. Event ids, timestamps and `unsigned` (Synapse's prev_content)
/// would only make snapshots larger.
nlohmann::json compact_event(const nlohmann::json& event);

/// Folds one joined room's /sync entry into `state`: state-block events,
/// then timeline events that carry a state_key, each replacing the event
/// with the same (type, state_key). True when any event was folded in.
bool absorb_sync_room(const nlohmann::json& room, RoomState& state);

/// A room's state as a JSON array of compact events (the stored snapshot).
std::string snapshot_text(const RoomState& state);

/// Parses a stored snapshot; nothing when it is not an array of events.
std::optional<RoomState> parse_snapshot(const std::string& text);

/// A parser callback for MatrixClient::get that calls `on_document` when an
/// answer's top-level object starts (again, when a request is retried) and
/// hands each entry of `rooms.join` of a /sync answer to `on_room` (room id,
/// entry) as soon as it is parsed, then drops it from the document (so
/// `on_room` may take what it wants out of the entry); the rest
/// (next_batch, rooms.leave, ...) is parsed as usual.
nlohmann::json::parser_callback_t stream_joined_rooms(
    std::function<void()> on_document,
    std::function<void(const std::string& room_id, nlohmann::json& room)> on_room);

/// One room the bot is in, as read.
struct BotRoom {
  /// Links (allow lists, space links) still name other rooms by raw id;
  /// resolve_room_links maps them once every room's key is known.
  model::ObservedRoom observed;
  /// The creators (room version 12 and later), else empty.
  std::set<std::string> creators;
};

/// The state events of `events` (a JSON array, e.g. GET /rooms/{id}/state)
/// as a RoomState of compact events; anything else: an empty state.
RoomState room_state_of(const nlohmann::json& events);

/// One room read from its state into the model (marker, creators, ...).
BotRoom read_bot_room(const std::string& room_id, const RoomState& state, const model::Settings& settings);

/// The bytes a room is kept in the store as (KeptRoomRead::read).
std::string encode_bot_room(const BotRoom& room);

/// The room `bytes` hold; nothing when they are not a whole, well-formed encoding.
std::optional<BotRoom> decode_bot_room(std::string_view bytes);

/// The snapshots an incremental /sync answer is folded into: every room of
/// the state behind the token, by its snapshot's digest, and the texts,
/// asked for only for the rooms that need them (at instance scale the
/// texts are tens of megabytes, and a converged pass needs none).
struct SnapshotBase {
  /// Room id → snapshot_digest() of its snapshot; empty: no base.
  const std::map<std::string, std::string>* digests = nullptr;
  /// One room's snapshot text; nothing when it cannot be had. A text whose
  /// digest is not the listed one counts as unreadable.
  std::function<std::optional<std::string>(const std::string& room_id)> text;

  bool empty() const { return digests == nullptr || digests->empty(); }
};

/// A base over snapshot texts held in memory; `texts` and `digests` must
/// outlive it, and `digests` hold snapshot_digest() of each text.
SnapshotBase snapshots_in(const std::map<std::string, std::string>& texts,
                          const std::map<std::string, std::string>& digests);

/// Reads of rooms kept from an earlier pass, by room id, and what their
/// digests start from.
struct KeptReads {
  /// The build and the settings (HttpHomeserver's); empty: reads are
  /// neither used nor made.
  std::string basis;
  const std::map<std::string, KeptRoomRead>* reads = nullptr;
  /// When set, stands for `reads`: called at most once, and only when a
  /// room must be read from its snapshot.
  std::function<std::map<std::string, KeptRoomRead>()> load;
};

/// The digest a read of the snapshot whose snapshot_digest() is
/// `snapshot_digest` is kept under, from `basis`.
std::string room_read_digest(const std::string& basis, std::string_view snapshot_digest);

/// What read_bot_rooms found.
struct BotRooms {
  std::map<std::string, BotRoom> rooms;  ///< by room id
  std::string sync_token;                ///< next_batch
  /// Snapshots that changed (nullopt: the bot left the room), to be saved
  /// with `sync_token`.
  std::map<std::string, std::optional<std::string>> changed_snapshots;
  bool incremental = false;  ///< only changes since the given token were read
  /// The changes read include a member's own m.room.member event (a join,
  /// a leave, a profile change): what the server knows of an account may
  /// have changed too. Meaningful only when `incremental`.
  bool members_acted = false;
  /// Rooms read from a snapshot that had no kept read matching it, to keep
  /// (only when read_bot_rooms was given kept reads).
  std::map<std::string, KeptRoomRead> reads_made;
  /// With `stop_if_unchanged`: the incremental answer changed no room's
  /// state and left none, so nothing was read; `rooms` is then empty.
  bool unchanged = false;
};

/// A /sync filter (JSON text) for the rooms' state and at most
/// `timeline_limit` timeline events, without presence, ephemeral events,
/// account data or lazy-loaded members (which would look like changes).
/// A different string each call: Synapse caches /sync answers for about
/// two minutes per (token, since, filter, timeline), and a read right after
/// a write must not be served the answer from before it. `state_fields_only`
/// asks for the event fields a room's state is read from (type, state_key,
/// sender, content; the spec's `event_fields`): the rest is most of a full
/// answer's bytes. A server that ignores it sends them all, read alike.
std::string fresh_sync_filter(int timeline_limit, bool state_fields_only = false);

/// The room stream position a /sync token stands for, when the token has
/// the form Synapse gives it ("s72594_4483_1934", "m72594~1.72595~2_…";
/// mxsim's "s12" too) or a bare number (Conduit's); nothing for any other
/// form. Tokens are opaque to clients: this is only ever used to notice a
/// token that is ahead of the server.
std::optional<std::int64_t> token_position(const std::string& token);

/// Reads every room the bot is in with one filtered /sync (`sync_path`,
/// without `since`): with `since` and `snapshots` (the state behind that
/// token), only the changes; else everything. Everything too when the
/// server refuses the token, when the token is ahead of the server (its
/// next_batch is behind `since`: the server never issued it, or was
/// restored from a backup since, and would answer "nothing changed"), when
/// there are no snapshots behind the token, or a snapshot needed is
/// unreadable. `rooms_read`, when given, holds the rooms as read from
/// `snapshots` (the same state): rooms the answer does not mention are
/// moved out of it instead of being read again, so afterwards it holds
/// only part of them, whether the read succeeded or not. `kept`, when given,
/// holds reads of the snapshots from an earlier pass: a room whose kept read
/// matches its snapshot's digest is decoded, its text neither fetched nor
/// parsed, and the rooms read otherwise are in reads_made.
/// `stop_if_unchanged`: an incremental answer that changes no room's state
/// and leaves no room ends the read there (BotRooms::unchanged).
model::Result<BotRooms> read_bot_rooms(MatrixClient& client, const std::string& sync_path, const std::string& since,
                                       const SnapshotBase& snapshots, const model::Settings& settings,
                                       std::map<std::string, BotRoom>* rooms_read = nullptr,
                                       const KeptReads* kept = nullptr, bool stop_if_unchanged = false);

}  // namespace adapters
