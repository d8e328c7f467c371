#pragma once
// Which ready operation runs next. The executor hands over operations whose
// dependencies are met; the scheduler gives back, lowest plan index first,
// those that may start now:
// - no running operation claims one of its targets (two writes to one room
//   in flight together fork the room on Synapse, two changes to one user's
//   m.direct lose one; see write_targets.h), and
// - an invite waits while another invite to the same server is running and
//   that server has not been opened yet: the first invite to a server probes
//   it, so a server that cannot be reached fails one invite, not every one
//   that happened to start before the first answer came back.
// Not thread-safe: the executor calls it under its lock. Every call costs
// O(log n) in the number of operations, amortized over the walk.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace controller {

class WriteScheduler {
 public:
  /// A scheduler for operations 0 .. count-1, none of them ready, none
  /// claiming anything until set_claims says so.
  explicit WriteScheduler(std::size_t count);

  /// What operation `index` holds while it runs: `rooms` exclusively, and
  /// `server`'s gate (empty: none) until the server is opened. Call before
  /// ready(index).
  void set_claims(std::size_t index, const std::vector<std::string>& rooms, const std::string& server);
  /// `index`'s dependencies are met: take() may return it from now on.
  /// Called at most once per operation.
  void ready(std::size_t index);
  /// The lowest ready operation that may start now, its rooms (and when its
  /// server is closed, the server's probe) claimed for it until release();
  /// nullopt when none may start until something is released or opened.
  std::optional<std::size_t> take();
  /// Operation `index`, returned by take(), has ended: its rooms are free,
  /// and if it was its server's probe and the server is still not open, the
  /// next invite to that server becomes the probe.
  void release(std::size_t index);
  /// Invites to `server` no longer wait for each other: it answered one, or
  /// it is known not to answer (the caller then skips them). A server no
  /// operation claims is ignored.
  void open(const std::string& server);
  /// Ready operations take() will look at next, at most one per room (but
  /// for operations on two rooms): about how many could start now, to wake
  /// just enough workers.
  std::size_t candidates() const { return m_candidates.size(); }

 private:
  static constexpr std::uint32_t k_none = UINT32_MAX;
  enum class Gate { closed, probing, open };

  struct Claim {
    std::vector<std::uint32_t> rooms;
    std::uint32_t server = k_none;
    bool probing = false;  // holds its server's gate
  };
  static constexpr std::size_t k_no_candidate = SIZE_MAX;
  struct Room {
    bool busy = false;
    // The one operation of this room among the candidates, so that the
    // candidates hold one per room rather than every ready operation of a
    // room at once (which would wake workers only to park them again).
    std::size_t candidate = k_no_candidate;
    std::set<std::size_t> waiting;  // ready, parked until the room is free
  };
  struct Server {
    Gate gate = Gate::closed;
    std::set<std::size_t> waiting;  // ready, parked until the probe ends
  };

  // Makes a ready operation a candidate (true), or parks it in its room.
  bool place(std::size_t index);
  std::uint32_t room_id(const std::string& key);
  std::uint32_t server_id(const std::string& name);
  // After `index` was parked: its free rooms and its closed server may have
  // other waiters that `index` was standing in front of.
  void wake_free(const Claim& claim);
  void wake_room(std::uint32_t room);
  void wake_server(std::uint32_t server);

  std::vector<Claim> m_claims;
  std::vector<Room> m_rooms;
  std::vector<Server> m_servers;
  std::unordered_map<std::string, std::uint32_t> m_room_ids;
  std::unordered_map<std::string, std::uint32_t> m_server_ids;
  std::set<std::size_t> m_candidates;
};

}  // namespace controller
