#include "adapters/room_lookup.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <system_error>
#include <thread>

namespace adapters {

namespace {

const std::string k_client = "/_matrix/client/v3";

tl::unexpected<model::Error> failed(const MatrixFailure& failure, const std::string& action) {
  model::Error error = failure.error;
  error.message = action + ": " + error.message;
  return tl::unexpected(error);
}

// Synapse's 403 for a room the bot is not in (or that does not exist), and
// 404; not 401, which says the token is bad, not the room.
bool unreadable(const MatrixFailure& failure) { return failure.status == 403 || failure.status == 404; }

}  // namespace

model::Result<std::optional<RoomState>> fetch_room_state(MatrixClient& client, const std::string& room_id) {
  auto state = client.get(k_client + "/rooms/" + encode_path_segment(room_id) + "/state");
  if (!state) {
    if (unreadable(state.error())) {
      return std::nullopt;
    }
    return failed(state.error(), "cannot read the state of room " + room_id);
  }
  return room_state_of(*state);
}

model::Result<std::optional<std::string>> resolve_alias(MatrixClient& client, const std::string& alias,
                                                        AliasLookups& lookups) {
  if (auto known = lookups.find(alias); known != lookups.end()) {
    return known->second;
  }
  auto resolved = client.get(k_client + "/directory/room/" + encode_path_segment(alias));
  if (!resolved) {
    if (resolved.error().error.kind != model::Error::Kind::not_found) {
      return failed(resolved.error(), "cannot look up alias " + alias);
    }
    lookups[alias] = std::nullopt;
    return std::nullopt;
  }
  std::string room_id = resolved->value("room_id", "");
  std::optional<std::string> found = room_id.empty() ? std::nullopt : std::optional<std::string>(room_id);
  lookups[alias] = found;
  return found;
}

model::Result<std::vector<std::optional<FreshRoom>>> read_rooms_afresh(MatrixClient& client,
                                                                       const std::vector<std::string>& room_ids,
                                                                       const model::Settings& settings,
                                                                       bool with_snapshots, int in_flight) {
  std::vector<std::optional<FreshRoom>> rooms(room_ids.size());
  std::atomic<std::size_t> next{0};
  std::mutex mutex;
  std::optional<model::Error> failure;
  auto work = [&] {
    for (std::size_t i = next++; i < room_ids.size(); i = next++) {
      {
        std::lock_guard<std::mutex> lock(mutex);
        if (failure) {
          return;
        }
      }
      auto state = fetch_room_state(client, room_ids[i]);
      if (!state) {
        std::lock_guard<std::mutex> lock(mutex);
        failure = failure.value_or(state.error());
        return;
      }
      if (*state) {
        FreshRoom fresh{read_bot_room(room_ids[i], **state, settings), {}};
        if (with_snapshots) {
          fresh.snapshot = snapshot_text(**state);
        }
        rooms[i] = std::move(fresh);
      }
    }
  };
  const std::size_t helpers = std::min(room_ids.size(), static_cast<std::size_t>(std::max(1, in_flight))) - 1;
  std::vector<std::thread> threads;
  try {
    for (std::size_t i = 0; i < helpers && room_ids.size() > 1; ++i) {
      threads.emplace_back(work);
    }
  } catch (const std::system_error&) {
    // Fewer threads only means fewer requests at once.
  }
  work();
  for (std::thread& thread : threads) {
    thread.join();
  }
  if (failure) {
    return tl::unexpected(*failure);
  }
  return rooms;
}

model::Result<void> reread_rooms(MatrixClient& client, const std::set<std::string>& room_ids,
                                 const model::Settings& settings, BotRooms& rooms) {
  std::vector<std::string> held;
  for (const std::string& room_id : room_ids) {
    if (rooms.rooms.count(room_id)) {
      held.push_back(room_id);
    }
  }
  auto fresh = read_rooms_afresh(client, held, settings, true);
  if (!fresh) {
    return tl::unexpected(fresh.error());
  }
  for (std::size_t i = 0; i < held.size(); ++i) {
    std::optional<FreshRoom>& room = (*fresh)[i];
    if (!room) {
      // Left or deleted since /sync answered: gone, with its snapshot.
      rooms.rooms.erase(held[i]);
      rooms.changed_snapshots[held[i]] = std::nullopt;
      continue;
    }
    rooms.rooms[held[i]] = std::move(room->room);
    rooms.changed_snapshots[held[i]] = std::move(room->snapshot);
  }
  return {};
}

}  // namespace adapters
