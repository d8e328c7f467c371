#include "adapters/store/sqlite_store_checks.h"

#include <set>
#include <vector>

#include "adapters/store/sqlite_db.h"

namespace adapters {

namespace {

// The tables each schema version has, by the version that made them, so a
// file at version N is checked for exactly what N must hold.
struct Table {
  int since;
  const char* name;
};
constexpr Table k_tables[] = {
    {1, "meta"},      {1, "rooms"},          {1, "messages_sent"}, {1, "accounts"},     {1, "runs"},
    {1, "journal"},   {1, "lock"},           {2, "room_snapshots"}, {3, "directs_set"}, {4, "archives"},
    {4, "tombstones"}, {4, "protected"},     {4, "audit"},          {5, "rooms_written"},
    {7, "appservice_transactions"},
};

// The tables checked at every open: what guards against destruction
// (protection, archive times, tombstones, accounts), what maps keys to rooms,
// and the lock. They stay small at any scale; the journal, the audit log and
// the snapshots are most of the file.
constexpr const char* k_guarding_tables[] = {"meta",       "rooms",     "accounts",      "archives",
                                             "protected",  "tombstones", "lock",         "messages_sent",
                                             "directs_set", "rooms_written"};

model::Result<std::set<std::string>> table_names(sqlite::Database& db) {
  const char* doing = "read the schema";
  auto stmt = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
                         doing);
  if (!stmt) {
    return tl::unexpected(stmt.error());
  }
  std::set<std::string> names;
  for (;;) {
    auto row = stmt->step(doing);
    if (!row) {
      return tl::unexpected(row.error());
    }
    if (!*row) {
      return names;
    }
    names.insert(stmt->text(0));
  }
}

std::string listed(const std::set<std::string>& names) {
  std::string text;
  std::size_t shown = 0;
  for (const std::string& name : names) {
    if (shown == 5) {
      return text + " and " + std::to_string(names.size() - shown) + " more";
    }
    text += (shown++ == 0 ? "" : ", ") + name;
  }
  return text;
}

const char* const k_not_ours_way_out =
    "; give --state the path of an mxctl state store, or a new path (mxctl makes a new store there)";

// A quick_check's findings: empty when it said "ok". An error running it
// (SQLite stops at some damage before it can report) is a finding too.
std::vector<std::string> quick_check(sqlite::Database& db, const std::string& sql) {
  auto stmt = db.prepare(sql.c_str(), "check the state store");
  if (!stmt) {
    return {sqlite3_errmsg(db.handle())};
  }
  std::vector<std::string> findings;
  for (;;) {
    auto row = stmt->step("check the state store");
    if (!row) {
      // SQLite's own words: the error's message already says "damaged".
      findings.push_back(sqlite3_errmsg(db.handle()));
      return findings;
    }
    if (!*row) {
      return findings;
    }
    if (std::string line = stmt->text(0); line != "ok") {
      findings.push_back(std::move(line));
    }
  }
}

}  // namespace

model::Result<StoreFile> identify_store(sqlite::Database& db, std::int64_t version) {
  auto application_id = db.query_int64("PRAGMA application_id", "read the application id");
  if (!application_id) {
    return tl::unexpected(application_id.error());
  }
  if (*application_id != 0 && *application_id != k_store_application_id) {
    return model::fail(model::Error::Kind::invalid,
                       "it is another program's SQLite database (application_id " + std::to_string(*application_id) +
                           "), not an mxctl state store" + k_not_ours_way_out);
  }
  auto tables = table_names(db);
  if (!tables) {
    return tl::unexpected(tables.error());
  }
  const bool ours = *application_id == k_store_application_id;
  if (version == 0) {
    if (tables->empty() && !ours) {
      return StoreFile::empty;
    }
    if (ours) {
      return model::fail(model::Error::Kind::invalid,
                         sqlite::damaged_store_message("it has mxctl's application id but no schema version"));
    }
    // Taking it over would put mxctl's tables beside another program's data.
    return model::fail(model::Error::Kind::invalid, "it is an SQLite database but not an mxctl state store (it holds " +
                                                        listed(*tables) + ")" + k_not_ours_way_out);
  }
  std::set<std::string> missing;
  for (const Table& table : k_tables) {
    if (table.since <= version && !tables->count(table.name)) {
      missing.insert(table.name);
    }
  }
  if (missing.empty()) {
    return StoreFile::mxctl;
  }
  const std::string what = "schema version " + std::to_string(version) + " but no table " + listed(missing);
  // Stores from before the application id was set say only by their tables
  // that they are mxctl's.
  if (ours || tables->count("meta")) {
    return model::fail(model::Error::Kind::invalid, sqlite::damaged_store_message(what));
  }
  return model::fail(model::Error::Kind::invalid,
                     "it is not an mxctl state store (" + what + ")" + k_not_ours_way_out);
}

int reserved_bytes(sqlite::Database& db) {
  // A negative value asks without changing anything; the answer is the
  // larger of what the file has and what this connection asked for.
  int reserve = -1;
  if (sqlite3_file_control(db.handle(), "main", SQLITE_FCNTL_RESERVE_BYTES, &reserve) != SQLITE_OK) {
    return 0;
  }
  return reserve;
}

model::Result<void> add_checksums(sqlite::Database& db, bool empty) {
  int reserve = sqlite::k_checksum_bytes;
  if (sqlite3_file_control(db.handle(), "main", SQLITE_FCNTL_RESERVE_BYTES, &reserve) != SQLITE_OK) {
    return model::fail(model::Error::Kind::invalid, "cannot reserve room for page checksums");
  }
  if (empty) {
    return {};
  }
  // Rewrites every page, each now with its checksum; needs no other
  // connection to be writing, and as much free space as the file takes.
  return db.exec("VACUUM", "add page checksums to the state store (VACUUM)");
}

model::Result<void> check_integrity(sqlite::Database& db, bool full) {
  std::vector<std::string> findings;
  if (full) {
    findings = quick_check(db, "PRAGMA quick_check");
  } else {
    auto tables = table_names(db);
    if (!tables) {
      findings.push_back(sqlite3_errmsg(db.handle()));
    } else {
      for (const char* table : k_guarding_tables) {
        if (tables->count(table) && findings.empty()) {
          // A pragma takes no bound parameters; the names are constants.
          findings = quick_check(db, std::string("PRAGMA quick_check(") + table + ")");
        }
      }
    }
  }
  if (findings.empty()) {
    return {};
  }
  std::string detail = "quick_check: " + findings.front();
  if (findings.size() > 1) {
    detail += " (and " + std::to_string(findings.size() - 1) + " more)";
  }
  return model::fail(model::Error::Kind::invalid, sqlite::damaged_store_message(detail));
}

}  // namespace adapters
