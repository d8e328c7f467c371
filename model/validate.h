#pragma once
// Semantic validation of a Topology, whatever it was loaded from (YAML
// manifests or the app database): names, references between objects, Matrix
// identifier grammar and FT-17's rules. Structural problems (syntax, unknown
// fields, wrong types) are the loader's business and are not repeated here.
//
// Positions come from each object's Origin. A loader that wants precise
// positions records these field paths (as written in a manifest):
//   every object:      "metadata.name"
//   User:              "spec.localpart", "spec.displayName", "spec.avatarUrl",
//                      "spec.linkedAccounts[i]"
//   Community:         "spec.name", "spec.topic", "spec.avatarUrl", "spec.powerPolicy",
//                      "spec.generalRoom.name", "spec.generalRoom.topic", "spec.members"
//   Council:           "spec.name", "spec.topic", "spec.community", "spec.encrypted",
//                      "spec.members"
//   CoordinationRoom:  "spec.between", "spec.between[i]", "spec.request", "spec.message",
//                      "spec.encrypted"
//   PowerPolicy:       "spec.bands", "spec.bands[i].minTrust", "spec.bands[i].level",
//                      "spec.adminLevel", "spec.chairLevel", "spec.thresholds.<name>"
//   members (own Origin, object = the member entry): "user", "trust", "role"
// Anything not recorded falls back to the object's position.

#include "model/diagnostic.h"
#include "model/topology.h"

namespace model {

/// Every semantic problem in `topology`, sorted with sort_diagnostics; empty
/// when valid. Checks: keys match [a-z0-9][a-z0-9-]* and are unique per kind;
/// localparts, linked accounts and avatar URLs follow the Matrix grammar and
/// localparts and linked accounts are not shared; required fields are present;
/// every reference (user, community, power policy) resolves, with a
/// did-you-mean; members are listed once, have trust >= 0, and council members
/// belong to the council's community; councils and coordination rooms are
/// encrypted; a coordination room is between exactly two distinct users;
/// power policies have ascending bands from 0 and levels within 0..100;
/// names, topics, display names and messages pass check_texts (limits.h).
/// Limits that depend on the server's name are check_limits'.
Diagnostics validate_topology(const Topology& topology);

/// `kind "name"` as messages name an object, e.g. `coordination room "request-8841"`;
/// the name printable (printable.h).
std::string describe_object(std::string_view kind, std::string_view name);

}  // namespace model
