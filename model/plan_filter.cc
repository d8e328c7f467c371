#include "model/plan_filter.h"

#include <limits>
#include <vector>

namespace model {

bool is_destructive(ResourceChange::Action action) {
  return action == ResourceChange::Action::archive || action == ResourceChange::Action::destroy ||
         action == ResourceChange::Action::suspend;
}

FilteredPlan held_back_destructive(const Plan& plan) {
  const std::size_t count = plan.operations.size();
  std::vector<bool> dropped(count, false);
  for (const ResourceChange& change : plan.changes) {
    if (is_destructive(change.action)) {
      for (std::size_t index : change.operations) {
        if (index < count) {
          dropped[index] = true;
        }
      }
    }
  }
  // Dependants of dropped operations go too, and so does every operation of
  // a change that lost one (a change is carried out whole or not at all),
  // until nothing more changes: depends_on may point forwards as well.
  for (bool grew = true; grew;) {
    grew = false;
    for (std::size_t index = 0; index < count; ++index) {
      if (dropped[index]) {
        continue;
      }
      for (std::size_t dependency : plan.operations[index].depends_on) {
        if (dependency < count && dropped[dependency]) {
          dropped[index] = true;
          grew = true;
          break;
        }
      }
    }
    for (const ResourceChange& change : plan.changes) {
      bool any = false;
      for (std::size_t index : change.operations) {
        any = any || (index < count && dropped[index]);
      }
      for (std::size_t index : change.operations) {
        if (any && index < count && !dropped[index]) {
          dropped[index] = true;
          grew = true;
        }
      }
    }
  }
  constexpr std::size_t k_gone = std::numeric_limits<std::size_t>::max();
  std::vector<std::size_t> renumbered(count, k_gone);
  FilteredPlan out;
  out.plan.warnings = plan.warnings;
  for (std::size_t index = 0; index < count; ++index) {
    if (!dropped[index]) {
      renumbered[index] = out.plan.operations.size();
      out.plan.operations.push_back(plan.operations[index]);
    }
  }
  for (Operation& operation : out.plan.operations) {
    for (std::size_t& dependency : operation.depends_on) {
      dependency = dependency < count ? renumbered[dependency] : dependency;
    }
  }
  for (const ResourceChange& change : plan.changes) {
    if (is_destructive(change.action)) {
      ++out.held_back;
      continue;
    }
    ResourceChange kept = change;
    kept.operations.clear();
    for (std::size_t index : change.operations) {
      if (index < count && renumbered[index] != k_gone) {
        kept.operations.push_back(renumbered[index]);
      }
    }
    if (kept.operations.size() != change.operations.size()) {
      ++out.held_back_dependants;
      continue;
    }
    out.plan.changes.push_back(std::move(kept));
  }
  return out;
}

}  // namespace model
