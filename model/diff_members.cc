// Who is in a room: invites and kicks, the m.direct entries that make a DM
// show as one, and the once-message.

#include <cstddef>
#include <string>

#include "model/differ.h"

namespace model::diffing {

void Differ::diff_members(const Room& want, const ObservedRoom& have, ResourceChange& change) {
  const bool council_or_dm = is_council_or_dm(want.key);
  const bool reinvite = council_or_dm ? m_options.reinvite_to_council_rooms : m_options.reinvite_to_community_rooms;
  // Both sides are sorted by MXID: one walk along each finds every member
  // without a search per member.
  auto it = have.members.begin();
  for (const std::string& user : want.members) {
    if (user == m_options.bot_user_id) {
      continue;
    }
    int order = 1;
    while (it != have.members.end() && (order = it->first.compare(user)) < 0) {
      ++it;
    }
    if (it != have.members.end() && order == 0) {
      const MemberState& state = it->second;
      if (state.membership == Membership::join || state.membership == Membership::invite) {
        continue;
      }
      if (state.membership == Membership::ban) {
        add_change({change.address, ResourceChange::Action::error, {},
                    user + " is banned from room " + have.room_id + "; mxctl does not lift bans", {}});
        continue;
      }
      if (state.membership == Membership::leave && state.by_self && !reinvite) {
        continue;  // They chose to leave; the policy says to respect that.
      }
    }
    change.fields.push_back({"members[" + quote(user) + "]", std::nullopt, WordValue{"invited"}});
    if (auto creation = m_room_creations.find(want.key); creation != m_room_creations.end()) {
      Operation& create = m_plan.operations[creation->second];
      if (invited_with_creation(want, create, user)) {
        create.invitees.push_back(user);
        for (std::size_t dep : account_dependency(user)) {
          create.depends_on.push_back(dep);
        }
        continue;
      }
    }
    Operation op = make_operation(Operation::Kind::invite, want.key, "", user);
    op.depends_on = room_dependency(want.key);
    for (std::size_t dep : account_dependency(user)) {
      op.depends_on.push_back(dep);
    }
    op.reason = user + " is a member in the desired state";
    change.operations.push_back(add_operation(op));
  }
  if (!council_or_dm) {
    return;  // Community rooms may hold people members invited; leave them be.
  }
  auto wanted = want.members.begin();
  for (const auto& [user, state] : have.members) {
    int order = 1;
    while (wanted != want.members.end() && (order = wanted->compare(user)) < 0) {
      ++wanted;
    }
    bool present = state.membership == Membership::join || state.membership == Membership::invite;
    if (!present || user == m_options.bot_user_id || (wanted != want.members.end() && order == 0)) {
      continue;
    }
    change.fields.push_back({"members[" + quote(user) + "]", WordValue{to_string(state.membership)}, std::nullopt});
    Operation op = make_operation(Operation::Kind::kick, want.key, "", user);
    op.reason = user + " is not a member in the desired state";
    change.operations.push_back(add_operation(op));
  }
}

// One request instead of one per member; Synapse also exempts these invites
// from its rate limits. The invitee must exist when the createRoom runs: a
// createRoom that fails on its invites leaves a half-made room behind. A DM's
// invites carry is_direct, and a context message goes before any invite.
bool Differ::invited_with_creation(const Room& want, const Operation& create, const std::string& user) const {
  return m_options.invite_with_create_room && !want.is_direct && !want.once_message &&
         create.invitees.size() < k_most_invites_with_create_room && m_local_users.count(user) &&
         (m_existing_users.count(user) || m_account_creations.count(user));
}

void Differ::diff_direct(const Room& want, ResourceChange& change) {
  if (!want.is_direct) {
    return;
  }
  for (const std::string& user : want.members) {
    if (!m_local_users.count(user) || m_observed.directs_set.count({want.key, user})) {
      continue;
    }
    change.fields.push_back({"direct[" + quote(user) + "]", std::nullopt, WordValue{"listed"}});
    Operation op = make_operation(Operation::Kind::set_direct, want.key, "", user);
    op.depends_on = room_dependency(want.key);
    for (std::size_t dep : account_dependency(user)) {
      op.depends_on.push_back(dep);
    }
    op.reason = "clients show the room as a direct chat only if " + user + "'s m.direct lists it";
    change.operations.push_back(add_operation(op));
  }
}

void Differ::diff_once_message(const Room& want, ResourceChange& change) {
  if (!want.once_message || m_observed.messages_sent.count(want.key)) {
    return;
  }
  change.fields.push_back({"once_message", std::nullopt, text(want.once_message->body)});
  Operation op = make_operation(Operation::Kind::send_message, want.key);
  op.depends_on = room_dependency(want.key);
  op.reason = "the context message has not been sent";
  change.operations.push_back(add_operation(op));
}

}  // namespace model::diffing
