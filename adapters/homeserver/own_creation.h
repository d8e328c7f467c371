#pragma once
// Telling mxctl's own new room from a foreign one while it is being made.
// Synapse's createRoom registers the alias before it persists the room's
// events, the ownership marker among them (100-200 ms seen): for that while
// the alias names a room whose state the bot cannot read at all (403, not
// in the room yet) and then one without a marker. A pass that comes to the
// room then (a retry after a timeout, the pass after a killed apply) must
// wait for the marker, not refuse the room as someone else's.

#include <chrono>
#include <optional>
#include <string>

#include "adapters/homeserver/matrix_client.h"
#include "adapters/homeserver/sync_state.h"
#include "model/result.h"
#include "model/settings.h"

namespace adapters {

/// How long to wait for a new room's marker, and how often to look.
struct CreationWait {
  /// From the first look; Synapse took 100-200 ms, under load it takes longer.
  std::chrono::milliseconds timeout{5000};
  /// Between looks.
  std::chrono::milliseconds interval{100};
};

/// What a room holding one of our aliases turned out to be.
struct CreationCheck {
  enum class Verdict {
    ours,       ///< it carries the marker of the key
    foreign,    ///< created by someone other than the bot, or marked for another key or instance
    unsettled,  ///< still no marker when the wait ended
  };
  /// The verdict when the wait ended.
  Verdict verdict = Verdict::unsettled;
  /// The state read last (for `ours`, the room with its marker).
  std::optional<RoomState> state;
  /// For foreign and unsettled: what was seen, to explain a refusal.
  std::string why;
};

/// Reads `room_id` (GET /rooms/{id}/state) until it carries the marker of
/// `key` for `settings.instance`, shows itself foreign (its m.room.create
/// was sent by someone other than `settings.bot_user_id`, or its marker
/// names another key or instance), or `wait.timeout` has passed. Call it
/// only for a room mxctl may have created (its journal has the creation):
/// a foreign room the bot cannot read is waited for to the end.
/// Errors other than 403/404 end the wait with the error.
model::Result<CreationCheck> await_own_room(MatrixClient& client, const std::string& room_id,
                                            const std::string& key, const model::Settings& settings,
                                            const CreationWait& wait);

}  // namespace adapters
