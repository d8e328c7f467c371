#include "controller/planner.h"

namespace controller {

model::Result<PlannedPass> make_plan(const model::MatrixState& desired, adapters::HomeserverPort& port,
                                     adapters::StateStore& store, const model::DiffOptions& options) {
  adapters::ObserveHints hints;
  auto room_ids = store.room_ids();
  if (!room_ids) {
    return tl::unexpected(room_ids.error());
  }
  hints.room_ids = *room_ids;
  auto sent = store.messages_sent();
  if (!sent) {
    return tl::unexpected(sent.error());
  }
  hints.messages_sent = *sent;
  auto directs = store.directs_set();
  if (!directs) {
    return tl::unexpected(directs.error());
  }
  hints.directs_set = *directs;
  auto token = store.sync_token();
  auto snapshots = store.room_snapshots();
  if (!token || !snapshots) {
    return tl::unexpected(!token ? token.error() : snapshots.error());
  }
  hints.sync_token = *token;
  hints.room_snapshots = std::move(*snapshots);
  auto observed = port.observe(desired, hints);
  if (!observed) {
    return tl::unexpected(observed.error());
  }
  // Remember what was found, so the next pass (and apply) can address rooms
  // by id even if this one stops here; this is how a lost store heals.
  for (const auto& [key, room_id] : observed->room_ids) {
    auto known = hints.room_ids.find(key);
    if (known == hints.room_ids.end() || known->second != room_id) {
      if (auto saved = store.set_room_id(key, room_id); !saved) {
        return tl::unexpected(saved.error());
      }
    }
  }
  // The token and the state behind it go together, so the next pass can
  // read only what changed since this one looked.
  if (auto saved = store.save_observation(observed->sync_token, observed->changed_snapshots); !saved) {
    return tl::unexpected(saved.error());
  }
  // What the server showed was sent is remembered, so the check is not repeated.
  for (const std::string& key : observed->state.messages_sent) {
    if (!hints.messages_sent.count(key)) {
      if (auto saved = store.mark_message_sent(key); !saved) {
        return tl::unexpected(saved.error());
      }
    }
  }
  observed->state.messages_sent.insert(hints.messages_sent.begin(), hints.messages_sent.end());
  for (const auto& [key, user] : observed->state.directs_set) {
    if (!hints.directs_set.count({key, user})) {
      if (auto saved = store.mark_direct_set(key, user); !saved) {
        return tl::unexpected(saved.error());
      }
    }
  }
  observed->state.directs_set.insert(hints.directs_set.begin(), hints.directs_set.end());
  PlannedPass pass;
  pass.plan = model::diff(desired, observed->state, options);
  pass.observation = std::move(*observed);
  return pass;
}

}  // namespace controller
