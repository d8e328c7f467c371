#pragma once
// Writes a synthetic instance as the community app's database (SQLite, the
// FT-17 schema of manifests/app-schema.sql), the same instance the manifest
// writer produces, so `--from-db` can be measured against manifests.

#include <string>

#include "bench/instance.h"

namespace bench {

/// Creates `db_path` (replacing it) with the schema in `schema_path` and the
/// rows of `instance`: app_users, communities, memberships, councils,
/// council_members, and one wealth item plus one accepted wealth request per
/// coordination room (its id is the room key without "request-", as the
/// default queries derive the key). Returns an empty string, or what went wrong.
std::string write_app_database(const Instance& instance, const std::string& schema_path, const std::string& db_path);

}  // namespace bench
