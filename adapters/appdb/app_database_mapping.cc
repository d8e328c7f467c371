#include "adapters/appdb/app_database_mapping.h"

#include <algorithm>
#include <optional>
#include <set>

#include <nlohmann/json.hpp>

#include "adapters/appdb/app_database_queries.h"
#include "adapters/appdb/app_database_rows.h"
#include "model/suggest.h"

namespace adapters {

namespace {

using app_db::ColumnType;
using app_db::QuerySpec;
using app_db::RowReader;
using app_db::row_key;
using model::Diagnostic;
using model::SourceLocation;

const std::map<std::string, QuerySpec>& specs() { return app_db::query_specs(); }

// FT-17 stores community settings as {"name": {"type": "boolean", "value": x}};
// a plain value is accepted too.
struct CommunityConfig {
  std::optional<bool> matrix_enabled;
  std::optional<bool> general_encrypted;
  std::optional<bool> council_encrypted;
  std::optional<std::string> general_name;
  std::optional<std::string> general_topic;
  std::optional<std::string> power_policy;
};

// Parses `text` (discarded when it is not JSON), adding to `duplicates` each
// key that appears twice in one object, as a dotted path ("matrixEnabled",
// "matrixEnabled.value"). nlohmann keeps the last of duplicates without a
// word; in a config that silently flips a setting.
nlohmann::json parse_noting_duplicates(const std::string& text, std::vector<std::string>& duplicates) {
  // One entry per open object: its keys so far and the key being read.
  struct Open {
    std::set<std::string> keys;
    std::string current;
  };
  std::vector<Open> open;
  auto callback = [&](int, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using Event = nlohmann::json::parse_event_t;
    if (event == Event::object_start) {
      open.emplace_back();
    } else if (event == Event::object_end && !open.empty()) {
      open.pop_back();
    } else if (event == Event::key && !open.empty() && parsed.is_string()) {
      open.back().current = parsed.get<std::string>();
      if (!open.back().keys.insert(open.back().current).second) {
        std::string path;
        for (const Open& object : open) {
          path += (path.empty() ? "" : ".") + object.current;
        }
        duplicates.push_back(path);
      }
    }
    return true;
  };
  return nlohmann::json::parse(text, callback, false);
}

CommunityConfig parse_config(const std::string& text, const SourceLocation& where, model::Diagnostics& out) {
  CommunityConfig config;
  std::vector<std::string> duplicates;
  nlohmann::json json = parse_noting_duplicates(text, duplicates);
  if (json.is_discarded() || !json.is_object()) {
    out.push_back({where, "config is not a json object"});
    return config;
  }
  if (!duplicates.empty()) {
    for (const std::string& key : duplicates) {
      out.push_back({where, "config: duplicate key \"" + key + "\""});
    }
    return config;
  }
  auto read = [&](const char* name, auto& field, bool want_bool) {
    if (!json.contains(name)) {
      return;
    }
    nlohmann::json value = json[name];
    if (value.is_object() && value.contains("value")) {
      value = value["value"];
    }
    if (value.is_null()) {
      return;
    }
    using T = typename std::decay_t<decltype(field)>::value_type;
    if (want_bool ? !value.is_boolean() : !value.is_string()) {
      out.push_back({where, std::string("config: ") + name + " must be " + (want_bool ? "a boolean" : "a string")});
      return;
    }
    field = value.get<T>();
  };
  read("matrixEnabled", config.matrix_enabled, true);
  read("matrixGeneralChatEncrypted", config.general_encrypted, true);
  read("matrixCouncilChatsEncrypted", config.council_encrypted, true);
  read("matrixGeneralRoomName", config.general_name, false);
  read("matrixGeneralRoomTopic", config.general_topic, false);
  read("matrixPowerPolicy", config.power_policy, false);
  return config;
}

// Runs one kind's query; nullopt (with a diagnostic) when it fails or its
// columns are wrong.
struct QueryRun {
  std::string label;
  DbRows rows;
};

std::optional<QueryRun> run(AppDatabase& db, const AppDatabaseSettings& settings, const std::string& kind,
                            model::Diagnostics& out) {
  const QuerySpec& spec = specs().at(kind);
  auto custom = settings.queries.find(kind);
  bool is_custom = custom != settings.queries.end();
  QueryRun result;
  result.label = is_custom ? "query " + kind : "table " + spec.table;
  // A failed statement aborts a PostgreSQL transaction; the savepoint keeps
  // the snapshot usable so the other queries still report their problems.
  (void)db.query("SAVEPOINT mxctl_query");
  auto rows = db.query(is_custom ? custom->second : spec.sql);
  if (!rows) {
    (void)db.query("ROLLBACK TO SAVEPOINT mxctl_query");
    out.push_back({{"query " + kind}, rows.error().message});
    return std::nullopt;
  }
  (void)db.query("RELEASE SAVEPOINT mxctl_query");
  result.rows = std::move(*rows);
  RowReader reader(result.label, result.rows, spec.columns, out);
  if (!reader.check_columns()) {
    return std::nullopt;
  }
  return result;
}

class TopologyBuilder {
 public:
  TopologyBuilder(AppDatabaseRead& read) : m_read(read) {}

  void users(QueryRun& q) {
    RowReader r(q.label, q.rows, specs().at("users").columns, m_read.diagnostics);
    for (std::size_t i = 0; i < r.size(); ++i) {
      std::string key = row_key(r, i, {"key"});
      model::User user;
      user.name = r.text(i, "key", key).value_or("");
      std::optional<std::string> localpart = r.text(i, "localpart", key);
      user.localpart = localpart.value_or(user.name);
      user.display_name = r.text(i, "display_name", key);
      user.avatar_url = r.text(i, "avatar_url", key);
      user.admin = r.boolean(i, "admin", key).value_or(false);
      user.deactivated = r.boolean(i, "deactivated", key).value_or(false);
      user.protect = r.boolean(i, "protect", key).value_or(false);
      user.origin.object = r.row_at(key);
      user.origin.fields = {{"metadata.name", r.at(key, "key")},
                            {"spec.displayName", r.at(key, "display_name")},
                            {"spec.avatarUrl", r.at(key, "avatar_url")}};
      // Only where a localpart was given: otherwise the key is the localpart.
      if (localpart) {
        user.origin.fields["spec.localpart"] = r.at(key, "localpart");
      }
      remember_id(r, i, key, m_read.ids.users, user.name);
      m_read.topology.users.push_back(std::move(user));
    }
  }

  void linked_accounts(QueryRun& q) {
    RowReader r(q.label, q.rows, specs().at("userLinkedAccounts").columns, m_read.diagnostics);
    for (std::size_t i = 0; i < r.size(); ++i) {
      std::string key = row_key(r, i, {"user", "matrix_user_id"});
      std::string name = r.text(i, "user", key).value_or("");
      model::User* user = find(m_read.topology.users, name);
      if (user == nullptr) {
        r.report(r.at(key, "user"), "unknown user \"" + name + "\"");
        continue;
      }
      user->origin.fields["spec.linkedAccounts[" + std::to_string(user->linked_accounts.size()) + "]"] =
          r.at(key, "matrix_user_id");
      user->linked_accounts.push_back(r.text(i, "matrix_user_id", key).value_or(""));
    }
  }

  void communities(QueryRun& q) {
    RowReader r(q.label, q.rows, specs().at("communities").columns, m_read.diagnostics);
    for (std::size_t i = 0; i < r.size(); ++i) {
      std::string key = row_key(r, i, {"key"});
      model::Community community;
      community.name = r.text(i, "key", key).value_or("");
      community.display_name = r.text(i, "name", key).value_or("");
      community.topic = r.text(i, "topic", key).value_or("");
      community.avatar_url = r.text(i, "avatar_url", key);
      community.archived = r.boolean(i, "archived", key).value_or(false);
      community.protect = r.boolean(i, "protect", key).value_or(false);
      community.origin.object = r.row_at(key);
      community.origin.fields = {{"metadata.name", r.at(key, "key")},
                                 {"spec.name", r.at(key, "name")},
                                 {"spec.topic", r.at(key, "topic")},
                                 {"spec.avatarUrl", r.at(key, "avatar_url")},
                                 {"spec.powerPolicy", r.at(key, "config")}};
      CommunityConfig config;
      if (auto text = r.text(i, "config", key)) {
        config = parse_config(*text, r.at(key, "config"), m_read.diagnostics);
      }
      // Explicit columns win over the config JSON (operators without one).
      community.matrix_enabled = r.boolean(i, "matrix_enabled", key).value_or(config.matrix_enabled.value_or(true));
      community.general_room.encrypted =
          r.boolean(i, "general_room_encrypted", key).value_or(config.general_encrypted.value_or(false));
      std::optional<std::string> general_name = r.text(i, "general_room_name", key);
      std::optional<std::string> general_topic = r.text(i, "general_room_topic", key);
      community.general_room.name = general_name.value_or(config.general_name.value_or(""));
      community.general_room.topic = general_topic.value_or(config.general_topic.value_or(""));
      // Where the value came from: its column, else the config JSON.
      community.origin.fields["spec.generalRoom.name"] = r.at(key, general_name ? "general_room_name" : "config");
      community.origin.fields["spec.generalRoom.topic"] = r.at(key, general_topic ? "general_room_topic" : "config");
      if (auto policy = r.text(i, "power_policy", key)) {
        community.power_policy = *policy;
        community.origin.fields["spec.powerPolicy"] = r.at(key, "power_policy");
      } else {
        community.power_policy = config.power_policy.value_or("");
      }
      if (config.council_encrypted) {
        m_council_encrypted[community.name] = {*config.council_encrypted, r.at(key, "config")};
      }
      remember_id(r, i, key, m_read.ids.communities, community.name);
      m_read.topology.communities.push_back(std::move(community));
    }
  }

  void community_members(QueryRun& q) {
    RowReader r(q.label, q.rows, specs().at("communityMembers").columns, m_read.diagnostics);
    for (std::size_t i = 0; i < r.size(); ++i) {
      std::string key = row_key(r, i, {"community", "user"});
      std::string community_name = r.text(i, "community", key).value_or("");
      model::Community* community = find(m_read.topology.communities, community_name);
      if (community == nullptr) {
        r.report(r.at(key, "community"), "unknown community \"" + community_name + "\"");
        continue;
      }
      model::CommunityMember member;
      member.user = r.text(i, "user", key).value_or("");
      r.require(i, "trust", key);
      member.trust = r.int32(i, "trust", key).value_or(0);
      std::string role = r.text(i, "role", key).value_or("member");
      if (role == "admin") {
        member.role = model::CommunityRole::admin;
      } else if (role != "member") {
        r.report(r.at(key, "role"), "role must be \"member\" or \"admin\", not \"" + role + "\"" +
                                        model::did_you_mean(role, {"member", "admin"}));
      }
      member.origin.object = r.row_at(key);
      member.origin.fields = {{"user", r.at(key, "user")}, {"trust", r.at(key, "trust")}, {"role", r.at(key, "role")}};
      community->members.push_back(std::move(member));
    }
  }

  void councils(QueryRun& q) {
    RowReader r(q.label, q.rows, specs().at("councils").columns, m_read.diagnostics);
    for (std::size_t i = 0; i < r.size(); ++i) {
      std::string key = row_key(r, i, {"key"});
      model::Council council;
      council.name = r.text(i, "key", key).value_or("");
      council.community = r.text(i, "community", key).value_or("");
      council.display_name = r.text(i, "name", key).value_or("");
      council.topic = r.text(i, "topic", key).value_or("");
      council.archived = r.boolean(i, "archived", key).value_or(false);
      council.protect = r.boolean(i, "protect", key).value_or(false);
      council.origin.object = r.row_at(key);
      council.origin.fields = {{"metadata.name", r.at(key, "key")},
                               {"spec.name", r.at(key, "name")},
                               {"spec.topic", r.at(key, "topic")},
                               {"spec.community", r.at(key, "community")}};
      // FT-17: councils are always encrypted; a community config saying
      // otherwise is reported by validation at that config.
      if (auto it = m_council_encrypted.find(council.community); it != m_council_encrypted.end()) {
        council.encrypted = it->second.first;
        council.origin.fields["spec.encrypted"] = it->second.second;
      }
      remember_id(r, i, key, m_read.ids.councils, council.name);
      m_read.topology.councils.push_back(std::move(council));
    }
  }

  void council_members(QueryRun& q) {
    RowReader r(q.label, q.rows, specs().at("councilMembers").columns, m_read.diagnostics);
    for (std::size_t i = 0; i < r.size(); ++i) {
      std::string key = row_key(r, i, {"council", "user"});
      std::string council_name = r.text(i, "council", key).value_or("");
      model::Council* council = find(m_read.topology.councils, council_name);
      if (council == nullptr) {
        r.report(r.at(key, "council"), "unknown council \"" + council_name + "\"");
        continue;
      }
      model::CouncilMember member;
      member.user = r.text(i, "user", key).value_or("");
      std::string role = r.text(i, "role", key).value_or("member");
      if (role == "chair") {
        member.role = model::CouncilRole::chair;
      } else if (role != "member") {
        r.report(r.at(key, "role"), "role must be \"member\" or \"chair\", not \"" + role + "\"" +
                                        model::did_you_mean(role, {"member", "chair"}));
      }
      member.origin.object = r.row_at(key);
      member.origin.fields = {{"user", r.at(key, "user")}, {"role", r.at(key, "role")}};
      council->members.push_back(std::move(member));
    }
  }

  void requests(QueryRun& q) {
    RowReader r(q.label, q.rows, specs().at("requests").columns, m_read.diagnostics);
    for (std::size_t i = 0; i < r.size(); ++i) {
      std::string key = row_key(r, i, {"key"});
      model::CoordinationRoom room;
      room.name = r.text(i, "key", key).value_or("");
      room.between = {r.text(i, "requester", key).value_or(""), r.text(i, "owner", key).value_or("")};
      room.request = r.text(i, "request", key).value_or(room.name);
      // Empty: the compiler's FT-17 default message, as for manifests.
      room.message = r.text(i, "message", key).value_or("");
      room.archived = r.boolean(i, "archived", key).value_or(false);
      room.protect = r.boolean(i, "protect", key).value_or(false);
      room.origin.object = r.row_at(key);
      room.origin.fields = {{"metadata.name", r.at(key, "key")},
                            {"spec.between", r.row_at(key)},
                            {"spec.between[0]", r.at(key, "requester")},
                            {"spec.between[1]", r.at(key, "owner")},
                            {"spec.request", r.at(key, "request")},
                            {"spec.message", r.at(key, "message")}};
      remember_id(r, i, key, m_read.ids.requests, room.name);
      m_read.topology.coordination_rooms.push_back(std::move(room));
    }
  }

 private:
  // By key, through an index built once per vector: member rows are many
  // (150,000 in the large benchmark) and a linear search each is quadratic.
  // The first of duplicate keys wins, as validation reports the others.
  template <typename T>
  T* find(std::vector<T>& objects, const std::string& name) {
    auto& index = m_indexes[static_cast<const void*>(&objects)];
    if (index.size() != objects.size()) {
      index.clear();
      for (std::size_t i = 0; i < objects.size(); ++i) {
        index.emplace(objects[i].name, i);
      }
    }
    auto it = index.find(name);
    return it == index.end() ? nullptr : &objects[it->second];
  }

  static void remember_id(RowReader& r, std::size_t row, const std::string& key,
                          std::map<std::string, std::string>& ids, const std::string& name) {
    if (auto id = r.text(row, "id", key); id && !name.empty()) {
      ids[name] = *id;
    }
  }

  AppDatabaseRead& m_read;
  std::map<std::string, std::pair<bool, SourceLocation>> m_council_encrypted;
  std::map<const void*, std::map<std::string, std::size_t>> m_indexes;
};

}  // namespace

const std::string& default_app_query(const std::string& kind) {
  static const std::string k_none;
  auto it = specs().find(kind);
  return it == specs().end() ? k_none : it->second.sql;
}

AppDatabaseRead read_app_database(AppDatabase& db, const AppDatabaseSettings& settings) {
  AppDatabaseRead read;
  if (auto begun = db.begin_snapshot(); !begun) {
    read.diagnostics.push_back({{"database"}, begun.error().message});
    read.complete = false;
    return read;
  }
  std::map<std::string, std::optional<QueryRun>> runs;
  for (const std::string& kind : k_app_query_kinds) {
    runs[kind] = run(db, settings, kind, read.diagnostics);
    if (runs[kind]) {
      read.rows += runs[kind]->rows.rows.size();
    } else {
      read.complete = false;
    }
  }
  // The snapshot is only for reading; nothing to keep.
  db.rollback();
  TopologyBuilder builder(read);
  // Parents before children, so members find their community or council.
  // Children of a parent whose query failed are left out: every one of them
  // would only repeat that failure as "unknown community".
  if (runs["users"]) {
    builder.users(*runs["users"]);
  }
  if (runs["users"] && runs["userLinkedAccounts"]) {
    builder.linked_accounts(*runs["userLinkedAccounts"]);
  }
  if (runs["communities"]) {
    builder.communities(*runs["communities"]);
  }
  if (runs["communities"] && runs["communityMembers"]) {
    builder.community_members(*runs["communityMembers"]);
  }
  if (runs["communities"] && runs["councils"]) {
    builder.councils(*runs["councils"]);
  }
  if (runs["communities"] && runs["councils"] && runs["councilMembers"]) {
    builder.council_members(*runs["councilMembers"]);
  }
  if (runs["requests"]) {
    builder.requests(*runs["requests"]);
  }
  return read;
}

}  // namespace adapters
