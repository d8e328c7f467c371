#pragma once
// A working in-memory homeserver behind HomeserverPort, in the spirit of
// ninja's VirtualFileSystem: execute() really changes an ObservedState, and
// observe() returns it, so a test can apply a plan and diff again. It keeps a
// journal of every call, injects failures on request, can add latency, and
// measures how many calls overlapped. Thread-safe: the executor calls it from
// several threads at once.
//
// Semantics kept from a real server (and the port's contract):
// - operations on a room need its id in the ExecutionContext (M_NOT_FOUND
//   otherwise), and so does the parent a new room names in m.space.parent,
//   so a room id that does not flow to dependants fails the test;
// - inviting an account mxctl manages (in context.desired) that does not
//   exist yet is M_NOT_FOUND, so account-before-membership order matters;
// - creations are idempotent like the port promises: creating an account or
//   a room that exists is `already_done` (with the existing room id), and a
//   once-message is recorded once per transaction id.
// Header-only so that only the suites that include it compile it.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "adapters/homeserver_port.h"
#include "model/observed_state.h"
#include "model/plan.h"
#include "model/result.h"

namespace fakes {

class FakeHomeserver final : public adapters::HomeserverPort {
 public:
  /// Room ids are "!<n>:<server_name>", n counting from 1.
  explicit FakeHomeserver(std::string server_name = "fake") : m_server_name(std::move(server_name)) {}

  /// Replaces the whole server state (to start from a partly converged server).
  void set_state(model::ObservedState state) {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_state = std::move(state);
  }

  /// A copy of the current server state.
  model::ObservedState state() const {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_state;
  }

  /// model::describe() of every execute() call, in the order calls began,
  /// failed attempts included.
  std::vector<std::string> calls() const {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_calls;
  }

  /// "begin <description>" and "end <description>" for every call that got
  /// past failure injection, in order: a call began after another ended iff
  /// its "begin" comes after that "end".
  std::vector<std::string> timeline() const {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_timeline;
  }

  /// The room ids each call found in its context, by description (last call wins).
  std::map<std::string, std::map<std::string, std::string>> contexts() const {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_contexts;
  }

  /// Once-messages delivered: room key → transaction ids, each once.
  std::map<std::string, std::vector<std::string>> messages() const {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_messages;
  }

  /// The next `count` calls whose description equals or starts with
  /// `description_or_prefix` fail with `error` (before changing anything).
  /// Rules are consulted in the order they were added.
  void fail_next(std::string description_or_prefix, model::Error error, int count = 1) {
    std::lock_guard<std::mutex> lock(m_mutex);
    m_failures.push_back({std::move(description_or_prefix), std::move(error), count});
  }

  /// Every call takes at least this long (so that concurrency shows).
  void set_latency(std::chrono::milliseconds latency) { m_latency_ms = latency.count(); }

  /// The most execute() calls that were ever running at the same time.
  int peak_in_flight() const { return m_peak; }

  model::Result<adapters::Observation> observe(const model::MatrixState&, const adapters::ObserveHints&) override {
    std::lock_guard<std::mutex> lock(m_mutex);
    adapters::Observation observation;
    observation.state = m_state;
    for (const auto& [key, room] : m_state.rooms) {
      observation.room_ids[key] = room.room_id;
    }
    return observation;
  }

  model::Result<adapters::OperationOutcome> execute(const model::Operation& operation,
                                                    const adapters::ExecutionContext& context) override {
    const std::string description = model::describe(operation);
    {
      std::lock_guard<std::mutex> lock(m_mutex);
      m_calls.push_back(description);
      m_contexts[description] = context.room_ids;
      for (Failure& failure : m_failures) {
        if (failure.count > 0 && description.rfind(failure.prefix, 0) == 0) {
          --failure.count;
          return tl::unexpected<model::Error>(failure.error);
        }
      }
      m_timeline.push_back("begin " + description);
    }
    const int running = ++m_in_flight;
    for (int peak = m_peak; running > peak && !m_peak.compare_exchange_weak(peak, running);) {
    }
    if (m_latency_ms > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(m_latency_ms.load()));
    }
    --m_in_flight;
    std::lock_guard<std::mutex> lock(m_mutex);
    auto outcome = apply(operation, context);
    m_timeline.push_back("end " + description);
    return outcome;
  }

 private:
  struct Failure {
    std::string prefix;
    model::Error error;
    int count = 0;
  };

  static tl::unexpected<model::Error> error(model::Error::Kind kind, const std::string& errcode,
                                            const std::string& message) {
    model::Error failure = model::make_error(kind, "fake " + errcode + ": " + message);
    failure.errcode = errcode;
    return tl::unexpected(failure);
  }

  const model::Room* desired_room(const adapters::ExecutionContext& context, const std::string& key) const {
    if (context.desired == nullptr) {
      return nullptr;
    }
    auto it = context.desired->rooms.find(key);
    return it == context.desired->rooms.end() ? nullptr : &it->second;
  }

  // The room the context names for `key`, as real calls address rooms by id.
  model::ObservedRoom* room_by_context(const adapters::ExecutionContext& context, const std::string& key) {
    auto id = context.room_ids.find(key);
    if (id == context.room_ids.end()) {
      return nullptr;
    }
    for (auto& [room_key, room] : m_state.rooms) {
      if (room.room_id == id->second) {
        return &room;
      }
    }
    return nullptr;
  }

  model::Result<adapters::OperationOutcome> apply(const model::Operation& op,
                                                  const adapters::ExecutionContext& context) {
    using Kind = model::Operation::Kind;
    switch (op.kind) {
      case Kind::create_account:
      case Kind::update_account: return apply_account(op, context);
      case Kind::create_room: return create_room(op, context);
      case Kind::set_state: return set_state_field(op, context);
      case Kind::invite:
      case Kind::kick: return change_member(op, context);
      case Kind::send_message: {
        const model::Room* want = desired_room(context, op.room_key);
        if (want == nullptr || !want->once_message) {
          return error(model::Error::Kind::invalid, "M_BAD_JSON", "no message for " + op.room_key);
        }
        if (room_by_context(context, op.room_key) == nullptr) {
          return error(model::Error::Kind::not_found, "M_NOT_FOUND", "unknown room " + op.room_key);
        }
        std::vector<std::string>& sent = m_messages[op.room_key];
        if (std::find(sent.begin(), sent.end(), want->once_message->txn_id) != sent.end()) {
          return adapters::OperationOutcome{std::nullopt, true};
        }
        sent.push_back(want->once_message->txn_id);
        return adapters::OperationOutcome{};
      }
      case Kind::set_direct: {
        if (room_by_context(context, op.room_key) == nullptr) {
          return error(model::Error::Kind::not_found, "M_NOT_FOUND", "unknown room " + op.room_key);
        }
        // The real server keeps m.direct per user; the fake only needs to
        // know it was set, and answers a repeat as already done.
        if (!m_directs.insert({op.room_key, op.user_id}).second) {
          return adapters::OperationOutcome{std::nullopt, true};
        }
        return adapters::OperationOutcome{};
      }
      case Kind::delete_room: {
        // Already gone counts as done, as a repeat after a crash would find it.
        if (m_state.rooms.erase(op.room_key) == 0) {
          return adapters::OperationOutcome{std::nullopt, true};
        }
        return adapters::OperationOutcome{};
      }
      case Kind::suspend_account:
      case Kind::reactivate_account: {
        auto it = m_state.accounts.find(op.account_key);
        if (it == m_state.accounts.end()) {
          return error(model::Error::Kind::not_found, "M_NOT_FOUND", "unknown user " + op.user_id);
        }
        it->second.status = op.kind == Kind::suspend_account ? model::AccountStatus::suspended
                                                               : model::AccountStatus::active;
        return adapters::OperationOutcome{};
      }
      case Kind::upgrade_room:
      case Kind::join_replacement: break;  // upgrades are tested against mxsim
    }
    return error(model::Error::Kind::invalid, "M_UNRECOGNIZED", "unknown operation");
  }

  model::Result<adapters::OperationOutcome> apply_account(const model::Operation& op,
                                                          const adapters::ExecutionContext& context) {
    if (context.desired == nullptr || !context.desired->accounts.count(op.account_key)) {
      return error(model::Error::Kind::invalid, "M_BAD_JSON", "no desired account " + op.account_key);
    }
    const model::Account& want = context.desired->accounts.at(op.account_key);
    auto it = m_state.accounts.find(op.account_key);
    if (op.kind == model::Operation::Kind::create_account) {
      if (it != m_state.accounts.end()) {
        return adapters::OperationOutcome{std::nullopt, true};
      }
      m_state.accounts[op.account_key] = want;
      return adapters::OperationOutcome{};
    }
    if (it == m_state.accounts.end()) {
      return error(model::Error::Kind::not_found, "M_NOT_FOUND", "unknown user " + want.user_id);
    }
    it->second.display_name = want.display_name;
    it->second.avatar_url = want.avatar_url;
    it->second.admin = want.admin;
    return adapters::OperationOutcome{};
  }

  model::Result<adapters::OperationOutcome> create_room(const model::Operation& op,
                                                        const adapters::ExecutionContext& context) {
    const model::Room* want = desired_room(context, op.room_key);
    if (want == nullptr) {
      return error(model::Error::Kind::invalid, "M_BAD_JSON", "no desired room " + op.room_key);
    }
    for (const std::string& user : op.invitees) {
      if (!has_account(context, user)) {
        return error(model::Error::Kind::not_found, "M_NOT_FOUND", "unknown user " + user);
      }
    }
    if (auto existing = m_state.rooms.find(op.room_key); existing != m_state.rooms.end()) {
      // The alias is taken by our own room: the port adopts it and repeats
      // the invites.
      invite_all(existing->second, op.invitees);
      return adapters::OperationOutcome{existing->second.room_id, true};
    }
    if (want->parent && !context.room_ids.count(want->parent->key)) {
      return error(model::Error::Kind::invalid, "M_BAD_JSON",
                   "m.space.parent of " + op.room_key + " names " + want->parent->key + ", whose id is unknown");
    }
    model::ObservedRoom room;
    room.room_id = "!" + std::to_string(++m_next_room) + ":" + m_server_name;
    room.marker_key = op.room_key;
    room.room = *want;
    // createRoom carries everything but children links and members, which
    // the plan adds with their own operations.
    room.room.children.clear();
    room.room.members.clear();
    room.room.encrypted = want->encrypted && !model::encrypted_after_message(*want);
    invite_all(room, op.invitees);
    m_state.rooms[op.room_key] = room;
    return adapters::OperationOutcome{room.room_id, false};
  }

  // Whether `user`, if the desired state names their account, has one here.
  bool has_account(const adapters::ExecutionContext& context, const std::string& user) const {
    if (context.desired != nullptr) {
      for (const auto& [key, account] : context.desired->accounts) {
        if (account.user_id == user && !m_state.accounts.count(key)) {
          return false;
        }
      }
    }
    return true;
  }

  static void invite_all(model::ObservedRoom& room, const std::vector<std::string>& users) {
    for (const std::string& user : users) {
      auto member = room.members.find(user);
      if (member == room.members.end() || member->second.membership != model::Membership::join) {
        room.members[user] = {model::Membership::invite, false};
      }
      room.room.members.insert(user);
    }
  }

  model::Result<adapters::OperationOutcome> set_state_field(const model::Operation& op,
                                                            const adapters::ExecutionContext& context) {
    const model::Room* want = desired_room(context, op.room_key);
    model::ObservedRoom* have = room_by_context(context, op.room_key);
    if (want == nullptr || have == nullptr) {
      return error(model::Error::Kind::not_found, "M_NOT_FOUND", "unknown room " + op.room_key);
    }
    if (!op.link_key.empty() && !context.room_ids.count(op.link_key)) {
      return error(model::Error::Kind::invalid, "M_BAD_JSON", "state key for " + op.link_key + " unknown");
    }
    model::Room& room = have->room;
    using Field = model::StateField;
    switch (op.field) {
      case Field::name: room.name = want->name; break;
      case Field::topic: room.topic = want->topic; break;
      case Field::avatar: room.avatar_url = want->avatar_url; break;
      case Field::join_rules:
        room.join_rule = want->join_rule;
        room.allow_spaces = want->allow_spaces;
        break;
      case Field::history_visibility: room.history_visibility = want->history_visibility; break;
      case Field::guest_access: room.guests_forbidden = true; break;
      case Field::encryption: room.encrypted = true; break;
      case Field::power_levels: room.power_levels = op.power_levels ? *op.power_levels : want->power_levels; break;
      case Field::space_child:
        for (const model::SpaceLink& child : want->children) {
          if (child.key == op.link_key) {
            std::erase_if(room.children, [&](const model::SpaceLink& link) { return link.key == child.key; });
            room.children.push_back(child);
          }
        }
        break;
      case Field::space_parent: room.parent = want->parent; break;
      case Field::archive_record: room.archived_at = want->archived_at; break;
      case Field::marker: room.protect = want->protect; break;
      case Field::retired_child:
        std::erase_if(room.children, [&](const model::SpaceLink& link) { return link.key == op.room_id; });
        break;
    }
    return adapters::OperationOutcome{};
  }

  model::Result<adapters::OperationOutcome> change_member(const model::Operation& op,
                                                          const adapters::ExecutionContext& context) {
    model::ObservedRoom* have = room_by_context(context, op.room_key);
    if (have == nullptr) {
      return error(model::Error::Kind::not_found, "M_NOT_FOUND", "unknown room " + op.room_key);
    }
    if (op.kind == model::Operation::Kind::kick) {
      have->members[op.user_id] = {model::Membership::leave, false};
      have->room.members.erase(op.user_id);
      return adapters::OperationOutcome{};
    }
    if (!has_account(context, op.user_id)) {
      return error(model::Error::Kind::not_found, "M_NOT_FOUND", "unknown user " + op.user_id);
    }
    have->members[op.user_id] = {model::Membership::invite, false};
    have->room.members.insert(op.user_id);
    return adapters::OperationOutcome{};
  }

  const std::string m_server_name;
  mutable std::mutex m_mutex;
  model::ObservedState m_state;
  std::vector<std::string> m_calls;
  std::vector<std::string> m_timeline;
  std::map<std::string, std::map<std::string, std::string>> m_contexts;
  std::map<std::string, std::vector<std::string>> m_messages;
  std::set<std::pair<std::string, std::string>> m_directs;
  std::vector<Failure> m_failures;
  int m_next_room = 0;
  std::atomic<long long> m_latency_ms{0};
  std::atomic<int> m_in_flight{0};
  std::atomic<int> m_peak{0};
};

}  // namespace fakes
