#pragma once
// The `appDatabase` section of the config file: how the app database's rows
// become a Topology. Kept apart from model::Settings because it is about one
// adapter's input, not about the Matrix state.

#include <map>
#include <string>
#include <vector>

namespace adapters {

/// The object kinds an operator can map with their own SQL, as written in the
/// config file (`appDatabase.queries.<kind>`).
inline const std::vector<std::string> k_app_query_kinds = {
    "users", "userLinkedAccounts", "communities", "communityMembers", "councils", "councilMembers", "requests",
};

struct AppDatabaseSettings {
  /// kind → SQL replacing the default query for FT-17's schema. Kinds not
  /// listed keep the default.
  std::map<std::string, std::string> queries;
  /// `mxctl run` with a PostgreSQL database: LISTEN on this channel and
  /// read the desired state again on each NOTIFY; empty: only poll.
  std::string notify_channel;
};

/// Whether `channel` can be LISTENed to as written: a lower-case SQL
/// identifier (a-z, 0-9, _; not starting with a digit; at most 63 bytes),
/// so that it needs no quoting and means the same to NOTIFY.
bool valid_notify_channel(const std::string& channel);

}  // namespace adapters
