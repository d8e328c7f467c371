#include "controller/apply_plan.h"

#include <utility>

#include "adapters/homeserver_port.h"
#include "controller/apply_recorder.h"
#include "controller/apply_records.h"

namespace controller {

namespace {

// The port a dry run walks the plan with: every call "succeeds" at once,
// marked simulated, and touches nothing, so the walk itself (order,
// dependencies) is the real one.
class NoopPort final : public adapters::HomeserverPort {
 public:
  model::Result<adapters::Observation> observe(const model::MatrixState&, const adapters::ObserveHints&) override {
    return adapters::Observation{};
  }
  model::Result<adapters::OperationOutcome> execute(const model::Operation&,
                                                    const adapters::ExecutionContext&) override {
    adapters::OperationOutcome outcome;
    outcome.simulated = true;
    return outcome;
  }
};

}  // namespace

ApplyReport apply_plan(const model::Plan& plan, const model::MatrixState& desired, adapters::HomeserverPort& port,
                       adapters::StateStore& store, std::int64_t run_id, const ExecutorOptions& options,
                       std::map<std::string, std::string> known_room_ids, ProgressCallback progress) {
  StoreRecorder recorder(store, desired, run_id, options.now, std::move(known_room_ids));
  return execute_plan(plan, desired, port, recorder, options, std::move(progress));
}

ApplyReport dry_run_plan(const model::Plan& plan, const model::MatrixState& desired, const ExecutorOptions& options,
                         std::map<std::string, std::string> known_room_ids, ProgressCallback progress) {
  NoopPort port;
  NullRecorder recorder(desired, std::move(known_room_ids));
  return execute_plan(plan, desired, port, recorder, options, std::move(progress));
}

}  // namespace controller
