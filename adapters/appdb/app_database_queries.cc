#include "adapters/appdb/app_database_queries.h"

namespace adapters::app_db {

namespace {

constexpr ColumnType k_text = ColumnType::text;
constexpr ColumnType k_int = ColumnType::integer;
constexpr ColumnType k_bool = ColumnType::boolean;

}  // namespace

// The defaults read manifests/app-schema.sql. Only SQL both engines accept:
// CAST(... AS TEXT), CASE, ||, TRUE/FALSE (SQLite 3.23+).
const std::map<std::string, QuerySpec>& query_specs() {
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
         {"deactivated", k_bool, false},
         {"protect", k_bool, false}}}},
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
         {"protect", k_bool, false},
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
         {"archived", k_bool, false},
         {"protect", k_bool, false}}}},
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
         {"archived", k_bool, false},
         {"protect", k_bool, false}}}},
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

}  // namespace adapters::app_db
