#include "controller/apply_report.h"

#include <algorithm>

#include "model/plan.h"

namespace controller {

namespace {

using Status = OperationReport::Status;

std::string resources_line(const ApplyReport& report, bool dry_run) {
  if (dry_run) {
    return "Resources: " + std::to_string(report.added) + " to add, " + std::to_string(report.changed) +
           " to change, " + std::to_string(report.destroyed) + " to destroy.";
  }
  return "Resources: " + std::to_string(report.added) + " added, " + std::to_string(report.changed) + " changed, " +
         std::to_string(report.destroyed) + " destroyed.";
}

}  // namespace

const char* to_string(Status status) {
  switch (status) {
    case Status::succeeded: return "succeeded";
    case Status::already_done: return "already_done";
    case Status::failed: return "failed";
    case Status::skipped: return "skipped";
    case Status::would_run: return "would_run";
  }
  return "unknown";
}

bool lets_dependents_run(Status status) {
  return status == Status::succeeded || status == Status::already_done || status == Status::would_run;
}

void count_outcomes(ApplyReport& report, const model::Plan& plan) {
  for (const OperationReport& operation : report.operations) {
    switch (operation.status) {
      case Status::succeeded: ++report.succeeded; break;
      case Status::already_done: ++report.already_done; break;
      case Status::failed: ++report.failed; break;
      case Status::skipped: ++report.skipped; break;
      case Status::would_run: ++report.would_run; break;
    }
    if (operation.attempts > 1) {
      ++report.retried;
      report.repeated_attempts += operation.attempts - 1;
    }
  }
  for (const model::ResourceChange& change : plan.changes) {
    if (change.action == model::ResourceChange::Action::error) {
      continue;
    }
    bool complete = std::all_of(change.operations.begin(), change.operations.end(), [&](std::size_t i) {
      return i < report.operations.size() && lets_dependents_run(report.operations[i].status);
    });
    if (!complete) {
      ++report.incomplete;
    } else if (change.action == model::ResourceChange::Action::create) {
      ++report.added;
    } else if (change.action == model::ResourceChange::Action::destroy) {
      ++report.destroyed;
    } else {
      ++report.changed;
    }
  }
}

std::string apply_summary(const ApplyReport& report, bool dry_run) {
  if (dry_run) {
    return "Dry run: nothing was applied. " + resources_line(report, true);
  }
  if (report.ok()) {
    return "Apply complete! " + resources_line(report, false);
  }
  std::string failures = std::to_string(report.failed) + (report.failed == 1 ? " operation" : " operations") +
                         " failed, " + std::to_string(report.skipped) + " skipped.";
  return "Apply failed: " + failures + " " + resources_line(report, false);
}

}  // namespace controller
