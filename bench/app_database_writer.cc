#include "bench/app_database_writer.h"

#include <sqlite3.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <variant>
#include <vector>

namespace bench {

namespace {

// Ids look like the app's UUIDs but are derived from the kind and index, so
// the same instance always gets the same ids.
std::string id_for(int kind, std::size_t index) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "00000000-0000-4000-800%d-%012zu", kind, index + 1);
  return buffer;
}

using Value = std::variant<std::nullptr_t, long long, std::string>;

class Database {
 public:
  explicit Database(const std::string& path) {
    if (sqlite3_open(path.c_str(), &m_db) != SQLITE_OK) {
      m_error = path + ": " + sqlite3_errmsg(m_db);
    }
  }
  ~Database() {
    sqlite3_finalize(m_statement);
    sqlite3_close(m_db);
  }
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  const std::string& error() const { return m_error; }

  void exec(const std::string& sql) {
    if (!m_error.empty()) {
      return;
    }
    char* message = nullptr;
    if (sqlite3_exec(m_db, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
      m_error = message ? message : "sqlite error";
    }
    sqlite3_free(message);
  }

  /// Prepares the INSERT the following insert() calls use.
  void prepare(const std::string& sql) {
    if (!m_error.empty()) {
      return;
    }
    sqlite3_finalize(m_statement);
    m_statement = nullptr;
    if (sqlite3_prepare_v2(m_db, sql.c_str(), -1, &m_statement, nullptr) != SQLITE_OK) {
      m_error = sql + ": " + sqlite3_errmsg(m_db);
    }
  }

  void insert(std::initializer_list<Value> values) {
    if (!m_error.empty()) {
      return;
    }
    int index = 1;
    for (const Value& value : values) {
      if (const auto* number = std::get_if<long long>(&value)) {
        sqlite3_bind_int64(m_statement, index, *number);
      } else if (const auto* text = std::get_if<std::string>(&value)) {
        sqlite3_bind_text(m_statement, index, text->c_str(), -1, SQLITE_TRANSIENT);
      } else {
        sqlite3_bind_null(m_statement, index);
      }
      ++index;
    }
    if (sqlite3_step(m_statement) != SQLITE_DONE) {
      m_error = sqlite3_errmsg(m_db);
    }
    sqlite3_reset(m_statement);
  }

 private:
  sqlite3* m_db = nullptr;
  sqlite3_stmt* m_statement = nullptr;
  std::string m_error;
};

Value text_or_null(const std::string& text) { return text.empty() ? Value(nullptr) : Value(text); }

}  // namespace

std::string write_app_database(const Instance& instance, const std::string& schema_path, const std::string& db_path) {
  std::ifstream schema_file(schema_path);
  if (!schema_file) {
    return schema_path + ": cannot read the schema";
  }
  std::stringstream schema;
  schema << schema_file.rdbuf();
  std::error_code ignored;
  std::filesystem::remove(db_path, ignored);
  Database db(db_path);
  db.exec(schema.str());
  // One transaction: row by row with autocommit would take minutes for L.
  db.exec("BEGIN");
  db.prepare("INSERT INTO app_users (id, username, display_name, is_server_admin) VALUES (?, ?, ?, ?)");
  for (std::size_t i = 0; i < instance.users.size(); ++i) {
    const GenUser& user = instance.users[i];
    db.insert({id_for(1, i), user.key, text_or_null(user.display_name), user.admin ? 1LL : 0LL});
  }
  db.prepare("INSERT INTO communities (id, slug, name, description) VALUES (?, ?, ?, ?)");
  for (std::size_t i = 0; i < instance.communities.size(); ++i) {
    const GenCommunity& community = instance.communities[i];
    db.insert({id_for(2, i), community.key, community.name, community.topic});
  }
  db.prepare("INSERT INTO memberships (community_id, user_id, trust_score, role) VALUES (?, ?, ?, ?)");
  for (std::size_t i = 0; i < instance.communities.size(); ++i) {
    for (const GenCommunityMember& member : instance.communities[i].members) {
      db.insert({id_for(2, i), id_for(1, member.user), static_cast<long long>(member.trust),
                 std::string(member.admin ? "admin" : "member")});
    }
  }
  db.prepare("INSERT INTO councils (id, community_id, slug, name, description) VALUES (?, ?, ?, ?, ?)");
  for (std::size_t i = 0; i < instance.councils.size(); ++i) {
    const GenCouncil& council = instance.councils[i];
    db.insert({id_for(3, i), id_for(2, council.community), council.key, council.name, council.topic});
  }
  db.prepare("INSERT INTO council_members (council_id, user_id, role) VALUES (?, ?, ?)");
  for (std::size_t i = 0; i < instance.councils.size(); ++i) {
    bool first = true;
    for (int user : instance.councils[i].members) {
      db.insert({id_for(3, i), id_for(1, user), std::string(first ? "chair" : "member")});
      first = false;
    }
  }
  // The owner shares a thing; the requester asked for it and was accepted.
  db.prepare("INSERT INTO wealth (id, owner_id, title) VALUES (?, ?, ?)");
  for (std::size_t i = 0; i < instance.coordination_rooms.size(); ++i) {
    db.insert({id_for(4, i), id_for(1, instance.coordination_rooms[i].second), "Shared item " + std::to_string(i + 1)});
  }
  db.prepare("INSERT INTO wealth_requests (id, wealth_id, requester_id, status, link) VALUES (?, ?, ?, 'accepted', ?)");
  for (std::size_t i = 0; i < instance.coordination_rooms.size(); ++i) {
    const GenCoordination& room = instance.coordination_rooms[i];
    db.insert({room.key.substr(std::string("request-").size()), id_for(4, i), id_for(1, room.first), room.request});
  }
  db.exec("COMMIT");
  return db.error();
}

}  // namespace bench
