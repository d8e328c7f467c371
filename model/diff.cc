#include "model/diff.h"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <unordered_set>
#include <vector>

#include "model/differ.h"
#include "model/naming.h"

namespace model {

std::string date_text(std::int64_t ms_since_epoch) {
  using namespace std::chrono;
  const sys_days day = floor<days>(sys_time<milliseconds>(milliseconds(ms_since_epoch)));
  const year_month_day ymd(day);
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()));
  return text;
}

namespace diffing {

namespace {

// Orders rooms so that every room comes after its parent space, which must
// exist before the child's createRoom can name it in m.space.parent.
std::vector<const Room*> parents_first(const std::map<std::string, Room>& rooms) {
  std::vector<const Room*> order;
  order.reserve(rooms.size());
  std::unordered_set<const Room*> placed;
  std::function<void(const Room&, int)> place = [&](const Room& room, int depth) {
    if (placed.count(&room) || depth > static_cast<int>(rooms.size())) {
      return;
    }
    if (room.parent) {
      if (auto parent = rooms.find(room.parent->key); parent != rooms.end()) {
        place(parent->second, depth + 1);
      }
    }
    if (placed.insert(&room).second) {
      order.push_back(&room);
    }
  };
  for (const auto& [key, room] : rooms) {
    place(room, 0);
  }
  return order;
}

}  // namespace

Differ::Differ(const MatrixState& desired, const ObservedState& observed, const DiffOptions& options)
    : m_desired(desired), m_observed(observed), m_options(options) {
  m_managed_users.insert(options.bot_user_id);
  m_local_users.reserve(desired.accounts.size());
  m_managed_users.reserve(desired.accounts.size() + 1);
  for (const auto& [key, account] : desired.accounts) {
    m_local_users.insert(account.user_id);
    m_managed_users.insert(account.user_id);
    m_managed_users.insert(account.linked_accounts.begin(), account.linked_accounts.end());
  }
  m_existing_users.reserve(observed.accounts.size());
  for (const auto& [key, account] : observed.accounts) {
    m_existing_users.insert(account.user_id);
  }
}

Plan Differ::run() {
  for (const auto& [key, account] : m_desired.accounts) {
    diff_account(account);
  }
  const std::vector<const Room*> order = parents_first(m_desired.rooms);
  // Pass 1: decide which rooms are created, so that pass 2 can make later
  // operations depend on those creations whatever order rooms come in.
  for (const Room* room : order) {
    plan_creation(*room);
  }
  for (const Room* room : order) {
    diff_room(*room);
  }
  for (const std::string& key : m_status_changes) {
    plan_status_change(m_desired.accounts.at(key));
  }
  if (!m_unsuspendable.empty()) {
    m_plan.warnings.push_back(unsuspendable_warning());
  }
  if (!m_outdated_rooms.empty()) {
    std::string rooms;
    for (const std::string& key : m_outdated_rooms) {
      rooms += (rooms.empty() ? "" : ", ") + key;
    }
    m_plan.warnings.push_back("older room version than the desired one: " + rooms +
                              "; mxctl upgrades rooms only when asked to (--upgrade-rooms)");
  }
  return std::move(m_plan);
}

void Differ::diff_account(const Account& want) {
  ResourceChange change{account_address(want.key), ResourceChange::Action::update, {}, "", {}};
  auto found = m_observed.accounts.find(want.key);
  if (found == m_observed.accounts.end() && want.status == AccountStatus::suspended) {
    return;  // A deactivated person who never had an account needs none.
  }
  if (found == m_observed.accounts.end()) {
    change.action = ResourceChange::Action::create;
    change.reason = want.user_id + " does not exist on the homeserver";
    change.fields.push_back({"user_id", std::nullopt, text(want.user_id)});
    if (want.display_name) {
      change.fields.push_back({"display_name", std::nullopt, text(*want.display_name)});
    }
    if (want.avatar_url) {
      change.fields.push_back({"avatar_url", std::nullopt, text(*want.avatar_url)});
    }
    change.fields.push_back({"admin", std::nullopt, want.admin});
    Operation op = make_operation(Operation::Kind::create_account, "", want.key, want.user_id);
    op.reason = change.reason;
    std::size_t index = add_operation(op);
    m_account_creations[want.user_id] = index;
    change.operations.push_back(index);
    add_change(std::move(change));
    return;
  }
  const Account& have = found->second;
  if (want.display_name && want.display_name != have.display_name) {
    change.fields.push_back({"display_name", optional_text(have.display_name), text(*want.display_name)});
  }
  if (want.avatar_url && want.avatar_url != have.avatar_url) {
    change.fields.push_back({"avatar_url", optional_text(have.avatar_url), text(*want.avatar_url)});
  }
  if (want.admin != have.admin) {
    change.fields.push_back({"admin", have.admin, want.admin});
  }
  if (!change.fields.empty()) {
    change.reason = "the profile on the homeserver differs from the desired state";
    Operation op = make_operation(Operation::Kind::update_account, "", want.key, want.user_id);
    op.reason = change.reason;
    change.operations.push_back(add_operation(op));
  }
  if (want.status != have.status && m_options.manage_account_status) {
    if (want.status == AccountStatus::suspended && !m_observed.cannot_suspend.empty()) {
      // A suspension the server cannot carry out would be planned, "done"
      // and planned again every pass; the plan says so once instead.
      m_unsuspendable.push_back(want.user_id);
    } else {
      // Planned after the rooms (see run()): the suspension waits for the
      // demotions and kicks, so a recreated account regains nothing.
      m_status_changes.push_back(want.key);
    }
  }
  add_change(std::move(change));
}

std::string Differ::unsuspendable_warning() const {
  std::string users;
  for (const std::string& user : m_unsuspendable) {
    users += (users.empty() ? "" : ", ") + user;
  }
  return "cannot suspend " + users + ": " + m_observed.cannot_suspend +
         ". They are demoted and removed from councils and coordination rooms, but can still sign in. "
         "Set `deactivatedAccounts: deactivate` to deactivate such accounts instead, or move to a homeserver "
         "with Synapse's suspend API or `locked` flag";
}

void Differ::plan_status_change(const Account& want) {
  const bool suspend = want.status == AccountStatus::suspended;
  const std::string address = account_address(want.key);
  auto existing = std::find_if(m_plan.changes.begin(), m_plan.changes.end(),
                               [&](const ResourceChange& c) { return c.address == address; });
  if (existing == m_plan.changes.end()) {
    m_plan.changes.push_back({address, ResourceChange::Action::update, {}, "", {}});
    existing = m_plan.changes.end() - 1;
  }
  ResourceChange& change = *existing;
  change.fields.push_back({"status", text(suspend ? "active" : "suspended"), text(suspend ? "suspended" : "active")});
  Operation op = make_operation(suspend ? Operation::Kind::suspend_account : Operation::Kind::reactivate_account, "",
                                want.key, want.user_id);
  op.fields = {change.fields.back()};
  if (suspend) {
    change.action = ResourceChange::Action::suspend;
    change.reason = want.user_id + " is deactivated or no longer in the desired state: demoted, removed from "
                                   "councils and coordination rooms, then suspended (never erased)";
    for (std::size_t i = 0; i < m_plan.operations.size(); ++i) {
      const Operation& other = m_plan.operations[i];
      bool demotion = other.kind == Operation::Kind::set_state && other.field == StateField::power_levels;
      bool kick = other.kind == Operation::Kind::kick && other.user_id == want.user_id;
      if (demotion || kick) {
        op.depends_on.push_back(i);
      }
    }
  } else {
    change.reason = want.user_id + " is active again in the desired state";
  }
  op.reason = change.reason;
  change.operations.push_back(add_operation(op));
}

}  // namespace diffing

Plan diff(const MatrixState& desired, const ObservedState& observed, const DiffOptions& options) {
  return diffing::Differ(desired, observed, options).run();
}

}  // namespace model
