#pragma once
// The YAML manifest source: multi-document files of `apiVersion: mxctl/v1`
// objects (User, Community, Council, CoordinationRoom, PowerPolicy) loaded
// into a model::Topology, with every problem reported as `file:line:col:
// message`. The format is documented in manifests/README.md.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "model/diagnostic.h"
#include "model/topology.h"

namespace adapters {

/// The only apiVersion this loader understands.
inline constexpr std::string_view k_manifest_api_version = "mxctl/v1";

/// What loading a manifest set produced: the topology (possibly partial) and every problem found.
struct LoadedManifests {
  /// Every object that could be read, with positions in each Origin. Objects
  /// with an unknown kind or no metadata.name are left out.
  model::Topology topology;
  /// Sorted with model::sort_diagnostics; empty = valid.
  model::Diagnostics diagnostics;
  /// Number of non-empty YAML documents read.
  std::size_t documents = 0;
  /// Files read, in order, spelled as the caller gave them (or as found under
  /// a directory the caller gave).
  std::vector<std::string> files;
};

/// Loads every *.yaml / *.yml file named in `paths` (directories are walked
/// recursively, files sorted by path so results are stable; a file named
/// explicitly is read whatever its extension), parses, runs structural checks
/// AND model::validate_topology. A path that does not exist is a diagnostic
/// ("no such file or directory"), as is a set with no manifest at all. A file
/// reached twice (e.g. "manifests/" and "manifests/users.yaml") is read once.
/// Never throws.
LoadedManifests load_manifests(const std::vector<std::string>& paths);

/// Whether a load runs model::validate_topology on what it read.
enum class ManifestChecks { all, structural_only };

/// load_manifests, but with `structural_only` semantic validation is left to
/// the caller: for combining manifests with another source (the app
/// database) and validating the merged Topology once. Documents are parsed
/// on up to `threads` threads at once; 0 picks from the size of the set and
/// the cores (one thread for small sets). The result is the same whatever
/// the number.
LoadedManifests load_manifests(const std::vector<std::string>& paths, ManifestChecks checks,
                               std::size_t threads = 0);

/// The manifest files `paths` name, read but not parsed: what a load parses,
/// so that a digest of it is a digest of exactly what would be parsed.
struct ManifestTexts {
  /// Files read, in order, spelled as LoadedManifests::files.
  std::vector<std::string> files;
  /// Their contents, one per file.
  std::vector<std::string> texts;
  /// Paths that do not exist, directories and files that cannot be read.
  model::Diagnostics diagnostics;
  /// The paths as given, joined by spaces ("." for none): where "no
  /// manifests found" points.
  std::string where;
};

/// Reads what load_manifests(paths, ...) would parse (directories walked as
/// it says). Never throws.
ManifestTexts read_manifest_texts(const std::vector<std::string>& paths);

/// Parses what read_manifest_texts read, as load_manifests does after
/// reading: load_manifests(paths, checks, threads) is
/// parse_manifest_texts(read_manifest_texts(paths), checks, threads).
LoadedManifests parse_manifest_texts(ManifestTexts read, ManifestChecks checks, std::size_t threads = 0);

/// Same for in-memory text (tests, stdin); `file_name` is used in
/// diagnostics. Runs validate_topology too, and reports text with no
/// document as an empty manifest set. `threads` as for load_manifests.
/// Never throws.
LoadedManifests parse_manifests(std::string_view text, const std::string& file_name, std::size_t threads = 0);

}  // namespace adapters
