#pragma once
// The room ids an apply knows: those the store and the observation had when
// it began, and those its create_room operations returned since. Later
// operations name their rooms, parents, children and allowed spaces by them
// (adapters::ExecutionContext::room_ids).

#include <map>
#include <string>

namespace model {
struct MatrixState;
struct Operation;
}  // namespace model

namespace controller {

/// Room ids by room key. Not thread-safe.
class KnownRoomIds {
 public:
  /// Knows `ids` to begin with; `desired` says which rooms an operation's
  /// room links to. `desired` must outlive this.
  KnownRoomIds(const model::MatrixState& desired, std::map<std::string, std::string> ids);

  /// The ids `operation` can refer to: its room, the room at the other end
  /// of a link, and its room's parent, children and allowed spaces; rooms
  /// with no id known yet are left out.
  std::map<std::string, std::string> ids_for(const model::Operation& operation) const;
  /// The id of room `key`; empty when none is known.
  std::string id_of(const std::string& key) const;
  /// Room `key` has id `id` from now on.
  void learn(const std::string& key, const std::string& id) { m_ids[key] = id; }

 private:
  const model::MatrixState& m_desired;
  std::map<std::string, std::string> m_ids;
};

}  // namespace controller
