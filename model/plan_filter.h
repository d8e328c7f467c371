#pragma once
// A plan without its destructive changes, for a controller that must keep
// repairing while the mass-change guard holds back what it objected to.

#include <cstddef>

#include "model/plan.h"

namespace model {

/// The changes the mass-change guard counts: archive, destroy, suspend.
bool is_destructive(ResourceChange::Action action);

/// What held_back_destructive() kept and left out.
struct FilteredPlan {
  Plan plan;
  /// Destructive changes left out.
  std::size_t held_back = 0;
  /// Other changes left out because an operation of theirs depended on a
  /// held-back operation.
  std::size_t held_back_dependants = 0;
};

/// `plan` without its destructive changes and their operations, nor any
/// change with an operation that depends (transitively) on one of those.
/// Operations are renumbered, dependencies and change indices with them, so
/// the result is a plan of its own; warnings are kept.
FilteredPlan held_back_destructive(const Plan& plan);

}  // namespace model
