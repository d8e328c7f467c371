#include "adapters/appdb/app_database_changes.h"

#include <utility>

#include "adapters/appdb/app_database.h"

namespace adapters {

AppDatabaseChanges::AppDatabaseChanges(std::string uri) : m_uri(std::move(uri)) {}

AppDatabaseChanges::~AppDatabaseChanges() = default;

std::string AppDatabaseChanges::fingerprint() {
  if (!m_db) {
    auto opened = open_app_database(m_uri, false);
    if (!opened) {
      return {};
    }
    m_db = std::move(*opened);
    ++m_connections;
  }
  auto token = m_db->change_token();
  if (!token) {
    m_db.reset();
    return {};
  }
  // Tokens compare only within one connection (SQLite's data_version).
  return "connection " + std::to_string(m_connections) + ": " + *token;
}

}  // namespace adapters
