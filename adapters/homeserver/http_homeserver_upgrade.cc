// HttpHomeserver's room upgrades: asking the server to upgrade a managed room
// (POST /rooms/{roomId}/upgrade), and joining the replacement of a room
// someone else upgraded, so the next observation can take it over.

#include "adapters/homeserver/answer_shape.h"
#include "adapters/homeserver/api_paths.h"
#include "adapters/homeserver/error_context.h"
#include "adapters/homeserver/http_homeserver.h"

namespace adapters {

model::Result<OperationOutcome> HttpHomeserver::upgrade_room(const model::Operation& operation,
                                                             const model::Room& room,
                                                             const ExecutionContext& context) {
  auto room_id = context.room_ids.find(operation.room_key);
  if (room_id == context.room_ids.end()) {
    return model::fail(model::Error::Kind::not_found, model::describe(operation) + ": room id unknown");
  }
  // A retry is safe: Synapse answers a repeated upgrade by the same user
  // with the room it made the first time, and once the tombstone is in, the
  // next observation no longer sees the old room as the key's.
  const std::string path = api::k_client + "/rooms/" + encode_path_segment(room_id->second) + "/upgrade";
  auto result = m_client.post(path, {{"new_version", room.room_version}});
  if (!result) {
    return failed(result.error(), model::describe(operation));
  }
  auto replacement = Answer("POST", path, *result).string(*result, "", "replacement_room");
  if (!replacement) {
    return failed(replacement.error(), model::describe(operation));
  }
  OperationOutcome out;
  out.room_id = *replacement;
  return out;
}

model::Result<OperationOutcome> HttpHomeserver::join_replacement(const model::Operation& operation) {
  const std::string path = api::k_client + "/rooms/" + encode_path_segment(operation.room_id) + "/join";
  auto result = m_client.post(path, nlohmann::json::object());
  if (!result) {
    const bool refused = result.error().error.kind == model::Error::Kind::forbidden;
    return failed(result.error(), model::describe(operation),
                  refused ? "; the room that replaced it is not open to mxctl's account: invite the bot there"
                          : "");
  }
  if (auto joined = Answer("POST", path, *result).string(*result, "", "room_id"); !joined) {
    return failed(joined.error(), model::describe(operation));
  }
  return OperationOutcome{};
}

}  // namespace adapters
