#pragma once
// The compiled desired state kept in the store between passes, under a
// digest of everything compiling depends on: mxctl's build and its
// libraries', every setting, and each manifest file's name and bytes, keyed
// with a secret the store does not hold. A pass
// over the same inputs reads the state back instead of parsing the YAML and
// compiling it again; any change to an input, or a kept state that does not
// decode, compiles afresh.

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

/// The state `cache` keeps under `digest`; nothing when it keeps none,
/// another, or one that does not decode (and a store it cannot read).
std::optional<model::MatrixState> recall_desired(adapters::CompiledDesiredCache& cache, const std::string& digest);

/// The encoded state `cache` keeps under `digest`, not decoded yet (a pass
/// the converged verdict answers never needs it); nothing when it keeps
/// none, another, or a store it cannot read.
std::optional<std::string> recall_desired_bytes(adapters::CompiledDesiredCache& cache, const std::string& digest);

/// Keeps `state` under `digest`, best effort: a store that cannot be
/// written (a plan on a read-only store) only makes the next pass compile.
void keep_desired(adapters::CompiledDesiredCache& cache, const std::string& digest, const model::MatrixState& state);

}  // namespace controller
