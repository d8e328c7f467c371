#pragma once
// Forked room writes, as Synapse makes them. Synapse creates up to five
// events per room at once, each on the room's newest event when it started:
// two writes in flight together get the same parent, and an incremental
// /sync from a token older than both then carries one of them but not the
// state change of the other (synapse-observed.md: the invite arrived, the
// m.room.name change did not), while the room's state endpoints show the
// truth. Off by default. When on, every room write (state event, membership
// change, message, redaction) notes the room's newest event, holds for a
// while so writes sent together really overlap, and is then applied; an
// event committed on a parent that another write already built on is a fork.

#include <chrono>
#include <cstdint>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>

#include "mxsim/router.h"

namespace mxsim {

struct Event;
struct ServerState;

/// The fork mode's switches.
struct ForkSettings {
  bool enabled = false;
  /// How long a room write waits, registered as in flight, before it is applied.
  int64_t hold_ms = 30;

  nlohmann::json to_json() const;
  /// Reads {"enabled": bool, "hold_ms": N} (both optional, over `base`);
  /// throws MatrixError 400 M_BAD_JSON on bad values.
  static ForkSettings from_json(const nlohmann::json& json, ForkSettings base);
};

/// One room write in flight: the room and its newest event's stream position
/// when the write started (the parent its events are built on).
struct RoomWrite {
  std::string room_id;
  int64_t parent_stream = 0;
  /// Stream positions of the events this write committed (not its own forks).
  std::set<int64_t> own;
};

/// The room a request adds an event to, by its matched route ("METHOD
/// /template"): a state PUT, send, redact, invite, kick, ban, unban, join
/// or leave under /rooms/{roomId}, or the admin join by room id; nullopt
/// for every other request.
std::optional<std::string> room_written(const std::string& route, const PathParams& params);

/// The fork mode. Thread-safe.
class ForkSimulator {
 public:
  void configure(const ForkSettings& settings);
  ForkSettings settings() const;

  /// Marks the calling thread as carrying out `write` while the scope lasts;
  /// events it commits meanwhile are checked by on_commit.
  class Scope {
   public:
    explicit Scope(RoomWrite write);
    ~Scope();
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;
  };

  /// Called with the state's write lock held for every committed event:
  /// when the calling thread carries a room write on an older parent and
  /// other writes' events were committed on that parent since, the room is
  /// forked, and one state change of the fork is hidden from incremental
  /// syncs that span it (Room::hide_from_incremental_sync): the first
  /// sibling's if it changed state, else this event's. One per fork.
  static void on_commit(ServerState& state, const Event& event);

 private:
  mutable std::mutex m_mutex;
  ForkSettings m_settings;
};

}  // namespace mxsim
