#pragma once
// The converged-verdict role of the state store: the last pass that found
// nothing to do, under a key over everything its plan was made from, and
// the reads that let a later pass tell cheaply whether the homeserver still
// answers the same (controller/converged_verdict.h). Anything missing or
// not matching makes a pass plan in full, so losing it costs time, never
// correctness.

#include <cstdint>
#include <optional>
#include <string>

#include "adapters/homeserver_port.h"
#include "model/result.h"

namespace adapters {

/// What a pass that found nothing to do leaves for the next one.
struct ConvergedVerdict {
  /// The key over the pass's inputs (controller/converged_verdict.h).
  std::string key;
  /// Until when (ms since the epoch) the same inputs give the same plan:
  /// the first end of an archived room's grace period. Part of the key.
  std::int64_t valid_until_ms = 0;
  /// The observation's reads besides /sync, to make again.
  ReadReplay replay;
  bool operator==(const ConvergedVerdict&) const = default;
};

/// The last converged verdict kept.
class ConvergedVerdicts {
 public:
  virtual ~ConvergedVerdicts() = default;

  /// The verdict kept last; nothing when none was.
  virtual model::Result<std::optional<ConvergedVerdict>> converged_verdict() = 0;
  /// Keeps `verdict` in place of the one kept before.
  virtual model::Result<void> keep_converged_verdict(const ConvergedVerdict& verdict) = 0;
};

}  // namespace adapters
