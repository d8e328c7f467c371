#pragma once
// What tells a long-running controller that the homeserver changed: one
// long-poll at a time from a position the last pass read up to. The feed
// only notices; the pass that follows reads the changes itself, so a
// notice lost or repeated costs a pass, never a change.

#include <chrono>
#include <set>
#include <string>

#include "model/result.h"

namespace adapters {

/// What one wait saw.
struct ChangeNotice {
  /// Where the next wait starts when nothing was seen (the server's
  /// next_batch); after a change, the next pass's own token replaces it.
  std::string next_position;
  /// Rooms the bot is in whose state or timeline moved, or that it left
  /// (kicked, banned, the room deleted).
  std::set<std::string> rooms;
  /// The wait ended on events that were all mxctl's own writes: nothing
  /// changed, but the wait was not a quick empty answer either.
  bool only_own_writes = false;

  /// Something changed that a pass should look at.
  bool changed() const { return !rooms.empty(); }
};

/// A homeserver's change stream.
class ChangeFeed {
 public:
  virtual ~ChangeFeed() = default;

  /// Waits up to `timeout` for a change after `position` (a /sync token;
  /// empty: the feed cannot wait, and answers at once with the current
  /// position). An error means nothing is known; the caller backs off and
  /// waits again.
  virtual model::Result<ChangeNotice> wait(const std::string& position, std::chrono::milliseconds timeout) = 0;

  /// Ends a wait in progress from another thread, and every later one, at
  /// once with an error.
  virtual void cancel() = 0;
};

}  // namespace adapters
