#include "adapters/homeserver/sync_room.h"

#include "adapters/homeserver/answer_shape.h"
#include "adapters/homeserver/api_paths.h"
#include "adapters/homeserver/error_context.h"

namespace adapters {

namespace {

std::string marker_path(const ActingAs& as, const std::string& room_id, const std::string& marker_type) {
  return api::k_client + "/rooms/" + encode_path_segment(room_id) + "/state/" + encode_path_segment(marker_type) +
         "/" + as.query;
}

}  // namespace

model::Result<std::optional<std::string>> find_sync_room(const ActingAs& as, const std::string& marker_type) {
  const std::string path = api::k_client + "/joined_rooms" + as.query;
  auto joined = as.client.get(path);
  if (!joined) {
    return failed(joined.error(), "list the rooms of " + as.user_id);
  }
  Answer answer("GET", path, *joined);
  auto rooms = answer.field(*joined, "", "joined_rooms", JsonType::array);
  if (!rooms) {
    return failed(rooms.error(), "list the rooms of " + as.user_id);
  }
  for (const nlohmann::json& room : **rooms) {
    if (!room.is_string()) {
      return failed(answer.malformed("joined_rooms holds " + describe_value(room) + ", expected room ids"),
                    "list the rooms of " + as.user_id);
    }
    const std::string room_id = room.get<std::string>();
    auto marker = as.client.get(marker_path(as, room_id, marker_type));
    if (marker) {
      return std::optional<std::string>(room_id);
    }
    if (marker.error().status != 404) {
      return failed(marker.error(), "read the marker of " + room_id);
    }
  }
  return std::optional<std::string>();
}

model::Result<std::string> create_sync_room(const ActingAs& as, const SyncAccountRequest& request) {
  nlohmann::json body = {
      {"visibility", "private"},
      {"name", request.display_name.value_or("Sync")},
      {"preset", "trusted_private_chat"},
      {"creation_content", {{"m.federate", false}}},
      {"initial_state",
       {{{"type", "m.room.encryption"}, {"state_key", ""}, {"content", {{"algorithm", "m.megolm.v1.aes-sha2"}}}},
        {{"type", request.marker_type}, {"state_key", ""}, {"content", {{"version", 1}}}}}},
  };
  auto created = as.client.post(api::k_client + "/createRoom" + as.query, body);
  if (!created) {
    return failed(created.error(), "create the sync room of " + as.user_id);
  }
  auto room_id = created->find("room_id");
  if (room_id == created->end() || !room_id->is_string()) {
    return model::fail(model::Error::Kind::invalid,
                       "create the sync room of " + as.user_id + ": the answer has no room_id");
  }
  // A 200 does not prove the room holds what was asked: read the marker back.
  const std::string id = room_id->get<std::string>();
  if (auto marker = as.client.get(marker_path(as, id, request.marker_type)); !marker) {
    return failed(marker.error(), "read back the marker of the new sync room " + id);
  }
  return id;
}

}  // namespace adapters
