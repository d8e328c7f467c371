#pragma once
// The compiled-desired-state role of the state store: the desired state a
// pass compiled, kept under a digest of everything it was compiled from, so
// that the next pass over the same inputs reads it back instead of parsing
// and compiling them again. Anything missing or not matching is compiled
// afresh, so losing it costs time, never correctness.

#include <optional>
#include <string>

#include "model/result.h"

namespace adapters {

/// One compiled desired state and what it was compiled from.
struct CompiledDesired {
  /// Digest of the inputs (controller/desired_cache.h says of what).
  std::string digest;
  /// The state, as model::encode_matrix_state wrote it, behind the seal
  /// that shows who kept it (controller/desired_cache.h).
  std::string state;
};

/// The last compiled desired state kept.
class CompiledDesiredCache {
 public:
  virtual ~CompiledDesiredCache() = default;

  /// The state kept last; nothing when none was.
  virtual model::Result<std::optional<CompiledDesired>> compiled_desired() = 0;
  /// The digest of the state kept last, without reading the state (tens of
  /// megabytes at instance scale, which a converged pass never decodes);
  /// nothing when none was kept.
  virtual model::Result<std::optional<std::string>> compiled_desired_digest() = 0;
  /// Keeps `compiled` in place of the one kept before.
  virtual model::Result<void> keep_compiled_desired(const CompiledDesired& compiled) = 0;
};

}  // namespace adapters
