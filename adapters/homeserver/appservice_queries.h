#pragma once
// The answers to the homeserver's application-service queries (spec:
// "the application service MUST create the user / the room using the
// client-server API" before answering 200). A managed account or room of
// the last desired state that does not exist yet is made there and then,
// through a port of its own (HttpHomeserver::execute, the same operations
// a pass runs), never by waiting on a pass: a pass's own alias lookups are
// what make the homeserver ask. Creation is idempotent, so a pass making
// the same room at once is harmless: one of the two gets M_ROOM_IN_USE,
// and the next pass adopts the room by its alias and marker.

#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "adapters/homeserver/appservice_listener.h"
#include "adapters/homeserver/desired_snapshot.h"
#include "adapters/homeserver/http_homeserver.h"

namespace adapters {

/// Answers user and room-alias queries. Thread-safe.
class AppserviceQueries {
 public:
  /// `port` makes the accounts and rooms (its own client, not the loop's);
  /// `snapshot` says what is desired. Both must outlive this. `note` (may
  /// be empty) hears one line per thing made or failed, for the log.
  AppserviceQueries(HttpHomeserver& port, const DesiredSnapshot& snapshot,
                    std::function<void(const std::string&)> note = {})
      : m_port(port), m_snapshot(snapshot), m_note(std::move(note)) {}

  /// A desired account with this user id: registered with its profile
  /// (exists), or failed; anyone else: absent.
  QueryAnswer user(const std::string& user_id);
  /// A desired room with this alias: created complete (marker, power
  /// levels, join rules, encryption, parent link, and the parent space's
  /// child link; a parent space not made yet first), or found existing
  /// (M_ROOM_IN_USE): exists; anything else: absent.
  QueryAnswer room_alias(const std::string& alias);

 private:
  // The room id of `key`, creating the room (and its parents) when needed.
  model::Result<std::string> ensure_room(const model::MatrixState& desired, const std::string& key, int depth);
  void note(const std::string& line) const;

  HttpHomeserver& m_port;
  const DesiredSnapshot& m_snapshot;
  std::function<void(const std::string&)> m_note;
  /// Rooms made or found here since the last pass published its ids.
  std::mutex m_mutex;
  std::map<std::string, std::string> m_made;
};

}  // namespace adapters
