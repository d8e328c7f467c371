#include "adapters/manifests/yaml_objects.h"

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/manifests/yaml_manifests.h"
#include "model/suggest.h"
#include "model/validate.h"

namespace adapters::manifest_yaml {

namespace {

using model::Origin;
using model::SourceLocation;

const std::vector<std::string> k_kinds = {"User", "Community", "Council", "CoordinationRoom", "PowerPolicy"};
const std::vector<std::string> k_document_fields = {"apiVersion", "kind", "metadata", "spec"};
const std::vector<std::string> k_metadata_fields = {"name"};
const std::vector<std::string> k_user_fields = {"localpart", "displayName",    "avatarUrl",
                                                "admin",     "linkedAccounts", "deactivated", "protect"};
const std::vector<std::string> k_community_fields = {"name",    "topic",         "avatarUrl",   "generalRoom",
                                                     "members", "matrixEnabled", "powerPolicy", "archived", "protect"};
const std::vector<std::string> k_general_room_fields = {"name", "topic", "encrypted"};
const std::vector<std::string> k_community_member_fields = {"user", "trust", "role"};
const std::vector<std::string> k_community_roles = {"member", "admin"};
const std::vector<std::string> k_council_fields = {"community", "name", "topic", "members", "encrypted", "archived", "protect"};
const std::vector<std::string> k_council_member_fields = {"user", "role"};
const std::vector<std::string> k_council_roles = {"member", "chair"};
const std::vector<std::string> k_coordination_fields = {"between", "request", "message", "encrypted", "archived", "protect"};
const std::vector<std::string> k_policy_fields = {"bands", "adminLevel", "chairLevel", "thresholds"};
const std::vector<std::string> k_band_fields = {"minTrust", "level"};
const std::vector<std::string> k_threshold_fields = {"invite", "kick",          "ban",
                                                     "redact", "eventsDefault", "stateDefault"};
// FT-17 UC-1: the context message sent when the coordination room is created.
constexpr std::string_view k_default_coordination_message = "Request accepted! Coordinate delivery for: ";

// The label messages use for a kind ("CoordinationRoom" -> "coordination room").
std::string kind_label(std::string_view kind) {
  if (kind == "CoordinationRoom") {
    return "coordination room";
  }
  if (kind == "PowerPolicy") {
    return "power policy";
  }
  std::string label(kind);
  std::transform(label.begin(), label.end(), label.begin(), [](unsigned char c) { return std::tolower(c); });
  return label;
}


// The positions recorded under `prefix` ("spec.members[2].") re-keyed for a
// member's own Origin ("user", "trust").
Origin member_origin(const Origin& parent, const std::string& prefix, SourceLocation object) {
  Origin origin;
  origin.object = std::move(object);
  // Paths that start with `prefix` sort together, from where `prefix` itself
  // would go; scanning every field instead made a community with n members
  // cost n^2.
  for (auto it = parent.fields.lower_bound(prefix); it != parent.fields.end() && it->first.starts_with(prefix);
       ++it) {
    origin.fields.emplace_hint(origin.fields.end(), it->first.substr(prefix.size()), it->second);
  }
  return origin;
}

// Walks a list of member mappings, calling `read_member(entry, path)` for each.
template <typename ReadMember>
void read_members(DocumentReader& reader, const Node& spec, ReadMember read_member) {
  const Node list = reader.field(spec, "spec", "members");
  if (!present(list) || !reader.expect_list(list, "spec.members")) {
    return;
  }
  const std::size_t size = list.size();
  for (std::size_t i = 0; i < size; ++i) {
    const Node entry = list.item(i);
    const std::string path = item("spec.members", i);
    if (reader.expect_map(entry, path)) {
      read_member(entry, path);
    }
  }
}

void read_user(DocumentReader& reader, const Node& spec, model::User& user) {
  reader.check_fields(spec, "spec", k_user_fields);
  user.localpart = user.name;
  reader.read(spec, "spec", "localpart", user.localpart);
  reader.read(spec, "spec", "displayName", user.display_name);
  reader.read(spec, "spec", "avatarUrl", user.avatar_url);
  reader.read(spec, "spec", "admin", user.admin);
  reader.read(spec, "spec", "linkedAccounts", user.linked_accounts);
  reader.read(spec, "spec", "deactivated", user.deactivated);
  reader.read(spec, "spec", "protect", user.protect);
}

void read_community(DocumentReader& reader, const Node& spec, model::Community& community) {
  reader.check_fields(spec, "spec", k_community_fields);
  reader.read(spec, "spec", "name", community.display_name);
  reader.read(spec, "spec", "topic", community.topic);
  reader.read(spec, "spec", "avatarUrl", community.avatar_url);
  if (const Node room = reader.field(spec, "spec", "generalRoom");
      present(room) && reader.expect_map(room, "spec.generalRoom")) {
    reader.check_fields(room, "spec.generalRoom", k_general_room_fields);
    reader.read(room, "spec.generalRoom", "name", community.general_room.name);
    reader.read(room, "spec.generalRoom", "topic", community.general_room.topic);
    reader.read(room, "spec.generalRoom", "encrypted", community.general_room.encrypted);
  }
  read_members(reader, spec, [&](const Node& entry, const std::string& path) {
    reader.check_fields(entry, path, k_community_member_fields);
    model::CommunityMember member;
    reader.read(entry, path, "user", member.user);
    reader.read(entry, path, "trust", member.trust);
    if (const Node role = reader.field(entry, path, "role"); present(role)) {
      if (auto index = reader.as_choice(role, child(path, "role"), k_community_roles)) {
        member.role = *index == 0 ? model::CommunityRole::member : model::CommunityRole::admin;
      }
    }
    member.origin = member_origin(*reader.origin(), path + ".", reader.at(entry));
    community.members.push_back(std::move(member));
  });
  reader.read(spec, "spec", "matrixEnabled", community.matrix_enabled);
  reader.read(spec, "spec", "powerPolicy", community.power_policy);
  reader.read(spec, "spec", "archived", community.archived);
  reader.read(spec, "spec", "protect", community.protect);
}

void read_council(DocumentReader& reader, const Node& spec, model::Council& council) {
  reader.check_fields(spec, "spec", k_council_fields);
  reader.read(spec, "spec", "community", council.community);
  reader.read(spec, "spec", "name", council.display_name);
  reader.read(spec, "spec", "topic", council.topic);
  read_members(reader, spec, [&](const Node& entry, const std::string& path) {
    reader.check_fields(entry, path, k_council_member_fields);
    model::CouncilMember member;
    reader.read(entry, path, "user", member.user);
    if (const Node role = reader.field(entry, path, "role"); present(role)) {
      if (auto index = reader.as_choice(role, child(path, "role"), k_council_roles)) {
        member.role = *index == 0 ? model::CouncilRole::member : model::CouncilRole::chair;
      }
    }
    member.origin = member_origin(*reader.origin(), path + ".", reader.at(entry));
    council.members.push_back(std::move(member));
  });
  reader.read(spec, "spec", "encrypted", council.encrypted);
  reader.read(spec, "spec", "archived", council.archived);
  reader.read(spec, "spec", "protect", council.protect);
}

void read_coordination_room(DocumentReader& reader, const Node& spec, model::CoordinationRoom& room) {
  reader.check_fields(spec, "spec", k_coordination_fields);
  reader.read(spec, "spec", "between", room.between);
  reader.read(spec, "spec", "request", room.request);
  room.message = std::string(k_default_coordination_message) + room.request;
  reader.read(spec, "spec", "message", room.message);
  reader.read(spec, "spec", "encrypted", room.encrypted);
  reader.read(spec, "spec", "archived", room.archived);
  reader.read(spec, "spec", "protect", room.protect);
}

void read_power_policy(DocumentReader& reader, const Node& spec, model::PowerPolicy& policy) {
  reader.check_fields(spec, "spec", k_policy_fields);
  if (const Node bands = reader.field(spec, "spec", "bands");
      present(bands) && reader.expect_list(bands, "spec.bands")) {
    // Declared bands replace the default table entirely; merging would make
    // a policy's meaning depend on defaults the reader cannot see.
    policy.bands.clear();
    const std::size_t size = bands.size();
    for (std::size_t i = 0; i < size; ++i) {
      const Node entry = bands.item(i);
      const std::string path = item("spec.bands", i);
      if (!reader.expect_map(entry, path)) {
        continue;
      }
      reader.check_fields(entry, path, k_band_fields);
      model::TrustBand band;
      for (const std::string& key : k_band_fields) {
        if (!present(entry.find(key))) {
          reader.report(entry, "missing required field " + in_quotes(shown(child(path, key))));
        }
      }
      reader.read(entry, path, "minTrust", band.min_trust);
      reader.read(entry, path, "level", band.level);
      policy.bands.push_back(band);
    }
  }
  reader.read(spec, "spec", "adminLevel", policy.admin_level);
  reader.read(spec, "spec", "chairLevel", policy.chair_level);
  if (const Node thresholds = reader.field(spec, "spec", "thresholds");
      present(thresholds) && reader.expect_map(thresholds, "spec.thresholds")) {
    const std::string path = "spec.thresholds";
    reader.check_fields(thresholds, path, k_threshold_fields);
    reader.read(thresholds, path, "invite", policy.invite);
    reader.read(thresholds, path, "kick", policy.kick);
    reader.read(thresholds, path, "ban", policy.ban);
    reader.read(thresholds, path, "redact", policy.redact);
    reader.read(thresholds, path, "eventsDefault", policy.events_default);
    reader.read(thresholds, path, "stateDefault", policy.state_default);
  }
}

}  // namespace

// The header of a document (apiVersion, kind, metadata) and then its spec.
// Objects whose kind or name cannot be known are left out of the topology:
// nothing could refer to them, and checking them further would only repeat
// the first problem.
void read_document(const Node& document, DocumentReader& reader, model::Topology& topology) {
  Origin origin;
  origin.object = reader.at(document);
  reader.set_subject("document", &origin);
  if (!document.is_map()) {
    reader.report(document, "expected a mapping with apiVersion, kind, metadata and spec, got " + got(document));
    return;
  }
  // A field that was not given is an absent node, which present() rejects.
  const Node kind = document.find("kind");
  const Node metadata = document.find("metadata");
  const Node name = metadata.find("name");
  const bool known_kind =
      present(kind) && kind.is_scalar() && std::find(k_kinds.begin(), k_kinds.end(), kind.scalar()) != k_kinds.end();
  const bool named = present(name) && name.is_scalar();
  const std::string label = known_kind ? kind_label(kind.scalar()) : "document";
  const std::string subject = named ? model::describe_object(label, name.scalar()) : label;
  reader.set_subject(subject, &origin);

  reader.check_fields(document, "", k_document_fields);
  const Node api_version = reader.field(document, "", "apiVersion");
  if (!present(api_version)) {
    reader.report(document, "missing required field \"apiVersion\"");
  } else if (!api_version.is_scalar() || api_version.scalar() != k_manifest_api_version) {
    reader.report(api_version, "unknown apiVersion " +
                                   (api_version.is_scalar() ? in_quotes(api_version.scalar()) : got(api_version)) +
                                   " (expected " + in_quotes(k_manifest_api_version) + ")");
  }
  if (!present(reader.field(document, "", "kind"))) {
    reader.report(document, "missing required field \"kind\"");
    return;
  }
  if (!known_kind) {
    const std::string shown_kind = kind.is_scalar() ? in_quotes(kind.scalar()) : got(kind);
    reader.report(kind, "unknown kind " + shown_kind +
                            (kind.is_scalar() ? model::did_you_mean(kind.scalar(), k_kinds) : std::string()));
    return;
  }
  if (!present(metadata)) {
    reader.report(document, "missing required field \"metadata\"");
    return;
  }
  if (!reader.expect_map(metadata, "metadata")) {
    return;
  }
  reader.check_fields(metadata, "metadata", k_metadata_fields);
  if (!present(name)) {
    reader.report(metadata, "missing required field \"metadata.name\"");
    return;
  }
  if (!named) {
    reader.report(name, "metadata.name must be a string, got " + got(name));
    return;
  }
  origin.object = reader.at(name);
  origin.fields["metadata.name"] = origin.object;
  origin.fields["kind"] = reader.at(kind);

  // An absent spec means "all defaults"; a malformed one is reported and
  // read as empty.
  const Node declared_spec = reader.field(document, "", "spec");
  const bool usable_spec = present(declared_spec) && reader.expect_map(declared_spec, "spec");
  const Node spec = usable_spec ? declared_spec : Node();
  // Each object is read in place so the reader can record into its Origin.
  const std::string_view kind_name = kind.scalar();
  auto start = [&](auto& object) {
    object.name = name.scalar();
    object.origin = std::move(origin);
    reader.set_subject(subject, &object.origin);
  };
  if (kind_name == "User") {
    start(topology.users.emplace_back());
    read_user(reader, spec, topology.users.back());
  } else if (kind_name == "Community") {
    start(topology.communities.emplace_back());
    read_community(reader, spec, topology.communities.back());
  } else if (kind_name == "Council") {
    start(topology.councils.emplace_back());
    read_council(reader, spec, topology.councils.back());
  } else if (kind_name == "CoordinationRoom") {
    start(topology.coordination_rooms.emplace_back());
    read_coordination_room(reader, spec, topology.coordination_rooms.back());
  } else {
    start(topology.power_policies.emplace_back());
    read_power_policy(reader, spec, topology.power_policies.back());
  }
}

}  // namespace adapters::manifest_yaml
