#pragma once
// Writes a synthetic instance as mxctl/v1 manifests, one file per kind, the
// way an operator would keep a large instance (manifests/README.md).

#include <string>

#include "bench/instance.h"

namespace bench {

/// Writes users.yaml, communities.yaml, councils.yaml and coordination.yaml
/// into `dir` (created if missing; existing files of those names are
/// replaced). Returns an empty string, or what went wrong.
std::string write_manifests(const Instance& instance, const std::string& dir);

}  // namespace bench
