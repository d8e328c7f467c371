#include "adapters/homeserver/room_lookup.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <system_error>
#include <thread>

#include "adapters/homeserver/answer_shape.h"
#include "adapters/homeserver/api_paths.h"
#include "adapters/homeserver/error_context.h"
#include "adapters/homeserver/event_shape.h"

namespace adapters {

namespace {

// Synapse's 403 for a room the bot is not in (or that does not exist), and
// 404; not 401, which says the token is bad, not the room.
bool unreadable(const MatrixFailure& failure) { return failure.status == 403 || failure.status == 404; }

}  // namespace

model::Result<std::optional<RoomState>> fetch_room_state(MatrixClient& client, const std::string& room_id) {
  const std::string path = api::k_client + "/rooms/" + encode_path_segment(room_id) + "/state";
  auto state = client.get(path);
  if (!state) {
    if (unreadable(state.error())) {
      return std::nullopt;
    }
    return failed(state.error(), "cannot read the state of room " + room_id);
  }
  // An answer that is not a list of state events is not an empty room.
  if (auto events = check_state_events("GET", path, *state); !events) {
    model::Error error = events.error();
    error.message = "cannot read the state of room " + room_id + ": " + error.message;
    return tl::unexpected(error);
  }
  return room_state_of(*state);
}

model::Result<std::optional<std::string>> resolve_alias(MatrixClient& client, const std::string& alias,
                                                        AliasLookups& lookups) {
  if (auto known = lookups.find(alias); known != lookups.end()) {
    return known->second;
  }
  const std::string path = api::k_client + "/directory/room/" + encode_path_segment(alias);
  auto resolved = client.get(path);
  if (!resolved) {
    if (resolved.error().error.kind != model::Error::Kind::not_found) {
      return failed(resolved.error(), "cannot look up alias " + alias);
    }
    lookups[alias] = std::nullopt;
    return std::nullopt;
  }
  // {room_id, servers}: without a room id the alias is neither free (a room
  // would be created under a taken name) nor known.
  Answer answer("GET", path, *resolved);
  auto room_id = answer.string(*resolved, "", "room_id");
  if (!room_id || room_id->empty()) {
    model::Error error = room_id ? answer.malformed("room_id is empty") : room_id.error();
    error.message = "cannot look up alias " + alias + ": " + error.message;
    return tl::unexpected(error);
  }
  lookups[alias] = *room_id;
  return std::optional<std::string>(*room_id);
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
