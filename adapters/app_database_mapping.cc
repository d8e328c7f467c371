#include "adapters/app_database_mapping.h"

#include <algorithm>
#include <optional>
#include <set>

#include <nlohmann/json.hpp>

#include "model/suggest.h"

namespace adapters {

namespace {

using model::Diagnostic;
using model::SourceLocation;

enum class ColumnType { text, integer, boolean };

struct ColumnSpec {
  std::string name;
  ColumnType type;
  bool required;
};

struct QuerySpec {
  /// The table the default query reads, used to name rows in messages.
  std::string table;
  std::string sql;
  std::vector<ColumnSpec> columns;
};

constexpr ColumnType k_text = ColumnType::text;
constexpr ColumnType k_int = ColumnType::integer;
constexpr ColumnType k_bool = ColumnType::boolean;

// The defaults read manifests/app-schema.sql. Only SQL both engines accept:
// CAST(... AS TEXT), CASE, ||, TRUE/FALSE (SQLite 3.23+).
const std::map<std::string, QuerySpec>& specs() {
  static const std::map<std::string, QuerySpec> k_specs = {
      {"users",
       {"app_users",
        "SELECT u.id AS id, u.username AS key, u.matrix_localpart AS localpart, u.display_name AS display_name, "
        "u.avatar_url AS avatar_url, u.is_server_admin AS admin, "
        "CASE WHEN u.deactivated_at IS NULL THEN FALSE ELSE TRUE END AS deactivated "
        "FROM app_users u ORDER BY u.username",
        {{"id", k_text, false},
         {"key", k_text, true},
         {"localpart", k_text, false},
         {"display_name", k_text, false},
         {"avatar_url", k_text, false},
         {"admin", k_bool, false},
         {"deactivated", k_bool, false}}}},
      {"userLinkedAccounts",
       {"app_user_linked_accounts",
        "SELECT u.username AS user, l.matrix_user_id AS matrix_user_id FROM app_user_linked_accounts l "
        "JOIN app_users u ON u.id = l.user_id ORDER BY u.username, l.matrix_user_id",
        {{"user", k_text, true}, {"matrix_user_id", k_text, true}}}},
      {"communities",
       {"communities",
        "SELECT c.id AS id, c.slug AS key, c.name AS name, c.description AS topic, c.avatar_url AS avatar_url, "
        "CAST(c.config AS TEXT) AS config, CASE WHEN c.deleted_at IS NULL THEN FALSE ELSE TRUE END AS archived "
        "FROM communities c ORDER BY c.slug",
        {{"id", k_text, false},
         {"key", k_text, true},
         {"name", k_text, true},
         {"topic", k_text, false},
         {"avatar_url", k_text, false},
         {"config", k_text, false},
         {"archived", k_bool, false},
         {"matrix_enabled", k_bool, false},
         {"general_room_name", k_text, false},
         {"general_room_topic", k_text, false},
         {"general_room_encrypted", k_bool, false},
         {"power_policy", k_text, false}}}},
      {"communityMembers",
       {"memberships",
        "SELECT c.slug AS community, u.username AS user, m.trust_score AS trust, m.role AS role "
        "FROM memberships m JOIN communities c ON c.id = m.community_id JOIN app_users u ON u.id = m.user_id "
        "ORDER BY c.slug, u.username",
        {{"community", k_text, true}, {"user", k_text, true}, {"trust", k_int, true}, {"role", k_text, false}}}},
      {"councils",
       {"councils",
        "SELECT k.id AS id, k.slug AS key, c.slug AS community, k.name AS name, k.description AS topic, "
        "CASE WHEN k.deleted_at IS NULL THEN FALSE ELSE TRUE END AS archived "
        "FROM councils k JOIN communities c ON c.id = k.community_id ORDER BY k.slug",
        {{"id", k_text, false},
         {"key", k_text, true},
         {"community", k_text, true},
         {"name", k_text, true},
         {"topic", k_text, false},
         {"archived", k_bool, false}}}},
      {"councilMembers",
       {"council_members",
        "SELECT k.slug AS council, u.username AS user, m.role AS role FROM council_members m "
        "JOIN councils k ON k.id = m.council_id JOIN app_users u ON u.id = m.user_id ORDER BY k.slug, u.username",
        {{"council", k_text, true}, {"user", k_text, true}, {"role", k_text, false}}}},
      {"requests",
       {"wealth_requests",
        "SELECT r.id AS id, 'request-' || r.id AS key, rq.username AS requester, ow.username AS owner, "
        "COALESCE(r.link, CAST(r.id AS TEXT)) AS request, r.coordination_message AS message "
        "FROM wealth_requests r JOIN wealth w ON w.id = r.wealth_id "
        "JOIN app_users rq ON rq.id = r.requester_id JOIN app_users ow ON ow.id = w.owner_id "
        "WHERE r.status = 'accepted' ORDER BY r.id",
        {{"id", k_text, false},
         {"key", k_text, true},
         {"requester", k_text, true},
         {"owner", k_text, true},
         {"request", k_text, false},
         {"message", k_text, false},
         {"archived", k_bool, false}}}},
  };
  return k_specs;
}

const char* type_name(ColumnType type) {
  switch (type) {
    case ColumnType::text:
      return "text";
    case ColumnType::integer:
      return "an integer";
    case ColumnType::boolean:
      return "a boolean";
  }
  return "?";
}

// Reads the rows of one query, checking names and types, and locating every
// problem as "<label> row <key> column <name>".
class RowReader {
 public:
  RowReader(std::string label, const DbRows& rows, const std::vector<ColumnSpec>& columns,
            model::Diagnostics& diagnostics)
      : m_label(std::move(label)), m_rows(rows), m_columns(columns), m_diagnostics(diagnostics) {
    for (std::size_t i = 0; i < m_rows.columns.size(); ++i) {
      m_index.emplace(m_rows.columns[i], i);
    }
  }

  /// False when a required column is missing or a column is unknown.
  bool check_columns() {
    std::vector<std::string> known;
    for (const ColumnSpec& spec : m_columns) {
      known.push_back(spec.name);
    }
    std::string returned;
    std::set<std::string> seen;
    for (const std::string& name : m_rows.columns) {
      returned += (returned.empty() ? "" : ", ") + name;
      if (std::find(known.begin(), known.end(), name) == known.end()) {
        report({m_label}, "unknown column \"" + name + "\"" + model::did_you_mean(name, known));
      } else if (!seen.insert(name).second) {
        report({m_label}, "column \"" + name + "\" is returned twice");
      }
    }
    bool ok = m_diagnostics.size() == m_reported_before;
    for (const ColumnSpec& spec : m_columns) {
      if (spec.required && !m_index.contains(spec.name)) {
        report({m_label}, "missing column \"" + spec.name + "\" (the query returns: " +
                              (returned.empty() ? "nothing" : returned) + ")");
        ok = false;
      }
    }
    return ok && m_diagnostics.size() == m_reported_before;
  }

  std::size_t size() const { return m_rows.rows.size(); }

  /// Where row `row` (known by `key`) is: "table x row key".
  SourceLocation row_at(const std::string& key) const { return {m_label + " row " + key}; }
  SourceLocation at(const std::string& key, const std::string& column) const {
    return {m_label + " row " + key + " column " + column};
  }

  /// The row's text value of `column`; nothing when null or not returned.
  /// An integer is accepted and written in decimal (ids are often integers).
  std::optional<std::string> text(std::size_t row, const std::string& column, const std::string& key) {
    const DbValue* value = cell(row, column);
    if (value == nullptr || value->is_null()) {
      return std::nullopt;
    }
    if (value->type == DbValue::Type::text || value->type == DbValue::Type::integer) {
      return value->text;
    }
    wrong_type(*value, column, key, ColumnType::text);
    return std::nullopt;
  }

  std::optional<long long> integer(std::size_t row, const std::string& column, const std::string& key) {
    const DbValue* value = cell(row, column);
    if (value == nullptr || value->is_null()) {
      return std::nullopt;
    }
    if (value->type == DbValue::Type::integer) {
      return value->integer;
    }
    wrong_type(*value, column, key, ColumnType::integer);
    return std::nullopt;
  }

  /// Booleans, or the integers 0 and 1 (SQLite has no boolean type).
  std::optional<bool> boolean(std::size_t row, const std::string& column, const std::string& key) {
    const DbValue* value = cell(row, column);
    if (value == nullptr || value->is_null()) {
      return std::nullopt;
    }
    if (value->type == DbValue::Type::boolean) {
      return value->boolean;
    }
    if (value->type == DbValue::Type::integer && (value->integer == 0 || value->integer == 1)) {
      return value->integer == 1;
    }
    wrong_type(*value, column, key, ColumnType::boolean);
    return std::nullopt;
  }

  /// A required value that is null.
  void require(std::size_t row, const std::string& column, const std::string& key) {
    const DbValue* value = cell(row, column);
    if (value != nullptr && value->is_null()) {
      report(at(key, column), column + " must not be null");
    }
  }

  void report(SourceLocation where, std::string message) {
    m_diagnostics.push_back({std::move(where), std::move(message)});
  }

 private:
  const DbValue* cell(std::size_t row, const std::string& column) const {
    auto it = m_index.find(column);
    if (it == m_index.end()) {
      return nullptr;
    }
    return &m_rows.rows[row][it->second];
  }

  void wrong_type(const DbValue& value, const std::string& column, const std::string& key, ColumnType expected) {
    std::string shown = value.text.size() > 40 ? value.text.substr(0, 40) + "…" : value.text;
    report(at(key, column), "expected " + std::string(type_name(expected)) + ", got " + to_string(value.type) +
                                " \"" + shown + "\"");
  }

  std::string m_label;
  const DbRows& m_rows;
  const std::vector<ColumnSpec>& m_columns;
  model::Diagnostics& m_diagnostics;
  std::size_t m_reported_before = m_diagnostics.size();
  std::map<std::string, std::size_t> m_index;
};

// The row's key for messages: the key columns joined by '/', or "#n" when
// they are null (the problem is reported separately).
std::string row_key(RowReader& reader, std::size_t row, std::initializer_list<const char*> columns) {
  std::string key;
  for (const char* column : columns) {
    std::optional<std::string> part = reader.text(row, column, "#" + std::to_string(row + 1));
    key += (key.empty() ? "" : "/") + part.value_or("#" + std::to_string(row + 1));
  }
  return key;
}

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

CommunityConfig parse_config(const std::string& text, const SourceLocation& where, model::Diagnostics& out) {
  CommunityConfig config;
  nlohmann::json json = nlohmann::json::parse(text, nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    out.push_back({where, "config is not a json object"});
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
      user.localpart = r.text(i, "localpart", key).value_or(user.name);
      user.display_name = r.text(i, "display_name", key);
      user.avatar_url = r.text(i, "avatar_url", key);
      user.admin = r.boolean(i, "admin", key).value_or(false);
      user.deactivated = r.boolean(i, "deactivated", key).value_or(false);
      user.origin.object = r.row_at(key);
      user.origin.fields = {{"metadata.name", r.at(key, "key")},
                            {"spec.localpart", r.at(key, "localpart")},
                            {"spec.avatarUrl", r.at(key, "avatar_url")}};
      remember_id(r, i, key, m_read.ids.users, user.name);
      m_read.topology.users.push_back(std::move(user));
    }
  }

  void linked_accounts(QueryRun& q) {
    RowReader r(q.label, q.rows, specs().at("userLinkedAccounts").columns, m_read.diagnostics);
    for (std::size_t i = 0; i < r.size(); ++i) {
      std::string key = row_key(r, i, {"user", "matrix_user_id"});
      std::string name = r.text(i, "user", key).value_or("");
      auto user = std::find_if(m_read.topology.users.begin(), m_read.topology.users.end(),
                               [&](const model::User& u) { return u.name == name; });
      if (user == m_read.topology.users.end()) {
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
      community.origin.object = r.row_at(key);
      community.origin.fields = {{"metadata.name", r.at(key, "key")},
                                 {"spec.name", r.at(key, "name")},
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
      community.general_room.name = r.text(i, "general_room_name", key).value_or(config.general_name.value_or(""));
      community.general_room.topic = r.text(i, "general_room_topic", key).value_or(config.general_topic.value_or(""));
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
      member.trust = static_cast<int>(r.integer(i, "trust", key).value_or(0));
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
      council.origin.object = r.row_at(key);
      council.origin.fields = {{"metadata.name", r.at(key, "key")},
                               {"spec.name", r.at(key, "name")},
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
      room.origin.object = r.row_at(key);
      room.origin.fields = {{"metadata.name", r.at(key, "key")},
                            {"spec.between", r.row_at(key)},
                            {"spec.between[0]", r.at(key, "requester")},
                            {"spec.between[1]", r.at(key, "owner")},
                            {"spec.request", r.at(key, "request")}};
      remember_id(r, i, key, m_read.ids.requests, room.name);
      m_read.topology.coordination_rooms.push_back(std::move(room));
    }
  }

 private:
  template <typename T>
  static T* find(std::vector<T>& objects, const std::string& name) {
    auto it = std::find_if(objects.begin(), objects.end(), [&](const T& o) { return o.name == name; });
    return it == objects.end() ? nullptr : &*it;
  }

  static void remember_id(RowReader& r, std::size_t row, const std::string& key,
                          std::map<std::string, std::string>& ids, const std::string& name) {
    if (auto id = r.text(row, "id", key); id && !name.empty()) {
      ids[name] = *id;
    }
  }

  AppDatabaseRead& m_read;
  std::map<std::string, std::pair<bool, SourceLocation>> m_council_encrypted;
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
