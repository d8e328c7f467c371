#pragma once
// The compiled desired state kept in the store between passes, under a
// digest of everything compiling depends on: mxctl's build and its
// libraries', every setting, and each manifest file's name and bytes, keyed
// with a secret the store does not hold. A pass
// over the same inputs reads the state back instead of parsing the YAML and
// compiling it again; any change to an input, or a kept state whose seal
// (a MAC under the same secret) does not hold or that does not decode,
// compiles afresh.

#include <optional>
#include <string>

#include "adapters/compiled_desired_cache.h"
#include "adapters/manifests/yaml_manifests.h"
#include "model/matrix_state.h"
#include "model/settings.h"

namespace controller {

/// The digest of compiling `manifests` with `settings` in this build, keyed
/// with `secret` (the bot's access token: whoever can write the store but
/// does not hold it cannot make a state of their own pass for the
/// manifests'). Nothing when there is nothing safe to key by: the program
/// carries no build id, `secret` is empty, or `manifests` holds a problem (a
/// path that does not exist, a file that cannot be read).
std::optional<std::string> desired_digest(const adapters::ManifestTexts& manifests, const model::Settings& settings,
                                          const std::string& secret);

/// The state `cache` keeps under `digest`, sealed by keep_desired() with
/// `secret`; nothing when it keeps none, another, one whose seal does not
/// hold (changed by whoever could write the store) or that does not decode
/// (and a store it cannot read).
std::optional<model::MatrixState> recall_desired(adapters::CompiledDesiredCache& cache, const std::string& digest,
                                                 const std::string& secret);

/// Whether `cache` keeps a state under `digest`, without reading it: a pass
/// that finds it so needs neither parse nor compile its inputs, and reads
/// the state only if its plan is made (recall_desired_bytes then).
bool keeps_desired(adapters::CompiledDesiredCache& cache, const std::string& digest);

/// The sealed bytes `cache` keeps under `digest`, neither checked nor
/// decoded yet (a pass the converged verdict answers never needs them);
/// nothing when it keeps none, another, or a store it cannot read.
std::optional<std::string> recall_desired_bytes(adapters::CompiledDesiredCache& cache, const std::string& digest);

/// The state in `sealed` (from recall_desired_bytes), if its seal holds for
/// `digest` and `secret` and it decodes; nothing otherwise.
std::optional<model::MatrixState> open_desired(const std::string& sealed, const std::string& digest,
                                               const std::string& secret);

/// Keeps `state` under `digest`, sealed with a MAC under `secret` over the
/// digest and the state's bytes, best effort: a store that cannot be written
/// (a plan on a read-only store) only makes the next pass compile.
void keep_desired(adapters::CompiledDesiredCache& cache, const std::string& digest, const model::MatrixState& state,
                  const std::string& secret);

}  // namespace controller
