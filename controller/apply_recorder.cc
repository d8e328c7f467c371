#include "controller/apply_recorder.h"

#include <utility>

#include "adapters/homeserver_port.h"
#include "model/plan.h"

namespace controller {

std::chrono::milliseconds commit_interval() { return adapters::GroupCommit{}.max_age; }

NullRecorder::NullRecorder(const model::MatrixState& desired, std::map<std::string, std::string> room_ids)
    : m_room_ids(desired, std::move(room_ids)) {}

std::map<std::string, std::string> NullRecorder::ids_for(const model::Operation& operation) const {
  return m_room_ids.ids_for(operation);
}

void NullRecorder::remember(const model::Operation& operation, const adapters::OperationOutcome& outcome) {
  using Kind = model::Operation::Kind;
  if ((operation.kind == Kind::create_room || operation.kind == Kind::upgrade_room) && outcome.room_id) {
    m_room_ids.learn(operation.room_key, *outcome.room_id);
  }
}

}  // namespace controller
