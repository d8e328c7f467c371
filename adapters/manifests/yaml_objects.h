#pragma once
// What a manifest document means: its header (apiVersion, kind, metadata)
// and the spec of each kind (User, Community, Council, CoordinationRoom,
// PowerPolicy), read into a model::Topology with the position of every
// field. The format is documented in manifests/README.md.

#include "adapters/manifests/yaml_document_reader.h"
#include "adapters/manifests/yaml_tree.h"
#include "model/topology.h"

namespace adapters::manifest_yaml {

/// Reads one document into `topology`, structural checks only: appends the
/// object it declares, or nothing when its kind or name cannot be known.
/// Problems go to `reader`, which this also points at the object's Origin.
void read_document(const Node& document, DocumentReader& reader, model::Topology& topology);

}  // namespace adapters::manifest_yaml
