#include "adapters/appdb/app_write_back.h"

#include <cstdio>
#include <random>

#include "model/naming.h"

namespace adapters {

namespace {

// matrix_user_mappings.id has no portable default (FT-17 uses
// gen_random_uuid(), which SQLite lacks): a random v4 UUID made here.
std::string random_uuid() {
  static thread_local std::mt19937_64 engine{std::random_device{}()};
  std::uint64_t high = engine();
  std::uint64_t low = engine();
  high = (high & 0xffffffffffff0fffull) | 0x0000000000004000ull;
  low = (low & 0x3fffffffffffffffull) | 0x8000000000000000ull;
  char buffer[37];
  std::snprintf(buffer, sizeof buffer, "%08llx-%04llx-%04llx-%04llx-%012llx",
                static_cast<unsigned long long>(high >> 32), static_cast<unsigned long long>((high >> 16) & 0xffff),
                static_cast<unsigned long long>(high & 0xffff), static_cast<unsigned long long>(low >> 48),
                static_cast<unsigned long long>(low & 0xffffffffffffull));
  return buffer;
}

std::optional<std::string> room(const std::map<std::string, std::string>& room_ids, const std::string& key) {
  auto it = room_ids.find(key);
  if (it == room_ids.end() || it->second.empty()) {
    return std::nullopt;
  }
  return it->second;
}

class Writer {
 public:
  Writer(AppDatabase& db, WriteBackReport& report) : m_db(db), m_report(report) {}

  model::Result<void> user(const std::string& name, const std::string& id, const std::string& matrix_user_id) {
    auto current = m_db.query("SELECT matrix_user_id FROM matrix_user_mappings WHERE user_id = $1", {id});
    if (!current) {
      return tl::unexpected(current.error());
    }
    if (current->rows.empty()) {
      auto inserted = m_db.query(
          "INSERT INTO matrix_user_mappings (id, user_id, matrix_user_id, provisioned_at) "
          "VALUES ($1, $2, $3, CURRENT_TIMESTAMP)",
          {random_uuid(), id, matrix_user_id});
      if (!inserted) {
        return tl::unexpected(inserted.error());
      }
    } else if (current->rows.front().front().text == matrix_user_id) {
      return {};
    } else {
      auto updated = m_db.query("UPDATE matrix_user_mappings SET matrix_user_id = $2 WHERE user_id = $1",
                                {id, matrix_user_id});
      if (!updated) {
        return tl::unexpected(updated.error());
      }
    }
    m_report.written.push_back("matrix_user_mappings " + name + ": matrix_user_id = " + matrix_user_id);
    return {};
  }

  /// Sets each (column, value) of the row `id` of `table` that differs.
  model::Result<void> columns(const std::string& table, const std::string& name, const std::string& id,
                              const std::vector<std::pair<std::string, std::optional<std::string>>>& values) {
    for (const auto& [column, value] : values) {
      if (!value) {
        continue;
      }
      auto current = m_db.query("SELECT " + column + " FROM " + table + " WHERE id = $1", {id});
      if (!current) {
        return tl::unexpected(current.error());
      }
      if (current->rows.empty()) {
        continue;  // deleted since it was read: nothing to annotate
      }
      const DbValue& old = current->rows.front().front();
      if (!old.is_null() && old.text == *value) {
        continue;
      }
      auto updated = m_db.query("UPDATE " + table + " SET " + column + " = $2 WHERE id = $1", {id, *value});
      if (!updated) {
        return tl::unexpected(updated.error());
      }
      m_report.written.push_back(table + " " + name + ": " + column + " = " + *value);
    }
    return {};
  }

 private:
  AppDatabase& m_db;
  WriteBackReport& m_report;
};

model::Result<void> write_all(Writer& writer, const model::Topology& topology, const AppRowIds& ids,
                              const MatrixIds& matrix) {
  const std::map<std::string, std::string>& room_ids = matrix.rooms;
  for (const model::User& user : topology.users) {
    auto id = ids.users.find(user.name);
    auto account = matrix.accounts.find(user.name);
    if (id != ids.users.end() && account != matrix.accounts.end()) {
      if (auto done = writer.user(user.name, id->second, account->second); !done) {
        return done;
      }
    }
  }
  for (const model::Community& community : topology.communities) {
    if (auto id = ids.communities.find(community.name); id != ids.communities.end()) {
      auto done = writer.columns(
          "communities", community.name, id->second,
          {{"matrix_space_id", room(room_ids, model::community_space_key(community.name))},
           {"matrix_general_room_id", room(room_ids, model::community_general_key(community.name))}});
      if (!done) {
        return done;
      }
    }
  }
  for (const model::Council& council : topology.councils) {
    if (auto id = ids.councils.find(council.name); id != ids.councils.end()) {
      auto done = writer.columns(
          "councils", council.name, id->second,
          {{"matrix_space_id", room(room_ids, model::council_space_key(council.name))},
           {"matrix_discussion_room_id", room(room_ids, model::council_discussion_key(council.name))}});
      if (!done) {
        return done;
      }
    }
  }
  for (const model::CoordinationRoom& dm : topology.coordination_rooms) {
    if (auto id = ids.requests.find(dm.name); id != ids.requests.end()) {
      auto done = writer.columns("wealth_requests", dm.name, id->second,
                                 {{"matrix_coordination_room_id", room(room_ids, model::coordination_room_key(dm.name))}});
      if (!done) {
        return done;
      }
    }
  }
  return {};
}

}  // namespace

model::Result<WriteBackReport> write_back(AppDatabase& db, const model::Topology& topology, const AppRowIds& rows,
                                          const MatrixIds& ids) {
  WriteBackReport report;
  if (auto begun = db.begin_write(); !begun) {
    return tl::unexpected(begun.error());
  }
  Writer writer(db, report);
  if (auto done = write_all(writer, topology, rows, ids); !done) {
    db.rollback();
    return model::fail(done.error().kind, "write-back: " + done.error().message + " (nothing was written)");
  }
  if (auto committed = db.commit(); !committed) {
    db.rollback();
    return tl::unexpected(committed.error());
  }
  return report;
}

model::Result<WriteBackReport> write_back(const std::string& db_uri, const model::Topology& topology,
                                          const AppRowIds& rows, const MatrixIds& ids) {
  auto db = open_app_database(db_uri, true);
  if (!db) {
    return tl::unexpected(db.error());
  }
  return write_back(**db, topology, rows, ids);
}

}  // namespace adapters
