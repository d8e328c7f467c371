#include "controller/apply_records.h"

#include <chrono>
#include <tuple>
#include <utility>

#include "adapters/homeserver_port.h"
#include "controller/field_text.h"
#include "model/matrix_state.h"
#include "model/plan.h"

namespace controller {

namespace {

using Status = OperationReport::Status;

// "create_room", "set_state m.room.power_levels", "delete_room", ...
std::string action_name(const model::Operation& operation) {
  using Kind = model::Operation::Kind;
  switch (operation.kind) {
    case Kind::create_account: return "create_account";
    case Kind::update_account: return "update_account";
    case Kind::create_room: return "create_room";
    case Kind::set_state: return std::string("set_state ") + model::event_type(operation.field);
    case Kind::invite: return "invite";
    case Kind::kick: return "kick";
    case Kind::send_message: return "send_message";
    case Kind::set_direct: return "set_direct";
    case Kind::delete_room: return "delete_room";
    case Kind::suspend_account: return "suspend_account";
    case Kind::reactivate_account: return "reactivate_account";
    case Kind::upgrade_room: return "upgrade_room";
    case Kind::join_replacement: return "join_replacement";
  }
  return "unknown";
}

const char* journal_result(Status status) {
  switch (status) {
    case Status::succeeded: return "ok";
    case Status::already_done: return "already_done";
    case Status::failed: return "failed";
    case Status::skipped: return "skipped";
    case Status::would_run: return "would_run";
  }
  return "failed";
}

}  // namespace

StoreRecorder::StoreRecorder(adapters::StateStore& store, const model::MatrixState& desired, std::int64_t run_id,
                             std::optional<std::int64_t> now, std::map<std::string, std::string> room_ids)
    : m_store(store), m_desired(desired), m_run_id(run_id), m_now(now), m_room_ids(desired, std::move(room_ids)) {}

void StoreRecorder::begin(const model::Plan& plan) {
  // A journal and an audit row per operation, each its own transaction,
  // cost more than the operation's own request against a fast server.
  if (auto grouped = m_store.set_group_commit(adapters::GroupCommit{}); !grouped) {
    m_warnings.push_back("could not group the journal's writes: " + grouped.error().message);
  }
  journal_creations(plan);
}

std::map<std::string, std::string> StoreRecorder::ids_for(const model::Operation& operation) const {
  return m_room_ids.ids_for(operation);
}

void StoreRecorder::remember(const model::Operation& operation, const adapters::OperationOutcome& outcome) {
  using Kind = model::Operation::Kind;
  if (operation.kind == Kind::create_room || operation.kind == Kind::upgrade_room) {
    if (!outcome.room_id) {
      m_warnings.push_back(model::describe(operation) + " returned no room id; operations on it cannot name it");
      return;
    }
    m_room_ids.learn(operation.room_key, *outcome.room_id);
    if (auto saved = m_store.set_room_id(operation.room_key, *outcome.room_id); !saved) {
      m_warnings.push_back("could not save the room id of " + operation.room_key + ": " + saved.error().message);
    }
    if (operation.kind == Kind::upgrade_room) {
      if (auto forgot = m_store.forget_directs(operation.room_key); !forgot) {
        m_warnings.push_back("could not forget the m.direct records of " + operation.room_key + ": " +
                             forgot.error().message);
      }
    }
  } else if (operation.kind == Kind::send_message) {
    if (auto saved = m_store.mark_message_sent(operation.room_key); !saved) {
      m_warnings.push_back("could not record the message sent to " + operation.room_key + ": " +
                           saved.error().message);
    }
  } else if (operation.kind == Kind::set_direct) {
    if (auto saved = m_store.mark_direct_set(operation.room_key, operation.user_id); !saved) {
      m_warnings.push_back("could not record m.direct of " + operation.user_id + " for " + operation.room_key +
                           ": " + saved.error().message);
    }
  } else {
    remember_lifecycle(operation);
  }
  remember_room_written(operation, outcome);
}

// On Synapse a write racing another (a person's, say) can fork the room's
// event graph, and /sync then misses one of the two changes: the next
// observation re-reads a room written to in full. Once per room per apply.
void StoreRecorder::remember_room_written(const model::Operation& operation,
                                          const adapters::OperationOutcome& outcome) {
  using Kind = model::Operation::Kind;
  const bool writes_events = operation.kind == Kind::create_room || operation.kind == Kind::set_state ||
                             operation.kind == Kind::invite || operation.kind == Kind::kick ||
                             operation.kind == Kind::send_message;
  if (!writes_events || outcome.already_done) {
    return;
  }
  const std::string room_id = m_room_ids.id_of(operation.room_key);
  if (room_id.empty() || !m_rooms_written.insert(room_id).second) {
    return;
  }
  if (auto saved = m_store.mark_room_written(room_id); !saved) {
    m_warnings.push_back("could not record the write to " + operation.room_key + ": " + saved.error().message);
  }
}

void StoreRecorder::journal_creations(const model::Plan& plan) {
  bool any = false;
  for (const model::Operation& operation : plan.operations) {
    if (operation.kind == model::Operation::Kind::create_room) {
      adapters::JournalEntry entry = journal_entry(model::describe(operation), Status::would_run, 0, {}, {});
      entry.result = "planned";
      journal(entry);
      any = true;
    }
  }
  if (any) {
    if (auto flushed = m_store.flush(); !flushed) {
      m_warnings.push_back("could not commit the planned room creations to the journal: " + flushed.error().message);
    }
  }
}

// The store's side of the lifecycle: archive times (kept with the room's
// own archive event), tombstones, and which accounts mxctl manages.
void StoreRecorder::remember_lifecycle(const model::Operation& operation) {
  using Kind = model::Operation::Kind;
  model::Result<void> saved;
  if (operation.kind == Kind::create_account) {
    auto account = m_desired.accounts.find(operation.account_key);
    if (account != m_desired.accounts.end()) {
      saved = m_store.remember_account(account->first, account->second.user_id);
    }
  } else if (operation.kind == Kind::set_state && operation.field == model::StateField::archive_record) {
    auto room = m_desired.rooms.find(operation.room_key);
    if (room != m_desired.rooms.end() && room->second.archived_at) {
      saved = m_store.record_archive(operation.room_key, m_room_ids.id_of(operation.room_key),
                                     *room->second.archived_at);
    } else {
      saved = m_store.clear_archive(operation.room_key);
    }
  } else if (operation.kind == Kind::suspend_account || operation.kind == Kind::reactivate_account) {
    saved = m_store.set_account_suspended(operation.account_key, operation.kind == Kind::suspend_account);
  } else if (operation.kind == Kind::delete_room) {
    adapters::Tombstone tombstone;
    tombstone.key = operation.room_key;
    tombstone.room_id = m_room_ids.id_of(operation.room_key);
    tombstone.archived_at = operation.archived_at.value_or(0);
    tombstone.deleted_at = now_ms();
    saved = m_store.record_tombstone(tombstone);
  }
  if (!saved) {
    m_warnings.push_back("could not record \"" + model::describe(operation) + "\" in the state store: " +
                         saved.error().message);
  }
}

std::int64_t StoreRecorder::now_ms() const {
  if (m_now) {
    return *m_now;
  }
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// FT-17's audit trail.
void StoreRecorder::audit(const model::Operation& operation, Status status, const std::string& message) {
  using Kind = model::Operation::Kind;
  adapters::AuditEntry entry;
  entry.run_id = m_run_id;
  entry.at = std::chrono::system_clock::now();
  entry.action = action_name(operation);
  const bool on_account = operation.kind == Kind::create_account || operation.kind == Kind::update_account ||
                          operation.kind == Kind::suspend_account || operation.kind == Kind::reactivate_account;
  entry.key = on_account ? operation.account_key : operation.room_key;
  entry.target = on_account                                  ? operation.user_id
                 : operation.kind == Kind::join_replacement ? operation.room_id
                                                            : m_room_ids.id_of(operation.room_key);
  if (operation.kind == Kind::invite || operation.kind == Kind::kick || operation.kind == Kind::set_direct) {
    entry.after = operation.user_id;
  } else {
    std::tie(entry.before, entry.after) = audit_values(operation);
  }
  entry.result = journal_result(status);
  entry.message = message;
  if (auto recorded = m_store.append_audit(entry); !recorded) {
    m_warnings.push_back("could not write \"" + model::describe(operation) + "\" to the audit log: " +
                         recorded.error().message);
  }
}

adapters::JournalEntry StoreRecorder::journal_entry(const std::string& description, Status status, int attempt,
                                                    std::string errcode, std::string message) const {
  adapters::JournalEntry entry;
  entry.run_id = m_run_id;
  entry.operation = description;
  entry.result = journal_result(status);
  entry.errcode = std::move(errcode);
  entry.message = std::move(message);
  entry.attempt = attempt;
  entry.at = std::chrono::system_clock::now();
  return entry;
}

void StoreRecorder::journal(const adapters::JournalEntry& entry) {
  if (auto recorded = m_store.record(entry); !recorded) {
    m_warnings.push_back("could not journal \"" + entry.operation + "\": " + recorded.error().message);
  }
}

void StoreRecorder::commit_due() {
  if (auto flushed = m_store.flush(); !flushed) {
    m_warnings.push_back("could not commit the journal and audit log: " + flushed.error().message);
  }
}

// Everything this apply recorded is durable before the caller goes on (and
// before it releases the lock).
void StoreRecorder::finish() {
  if (auto ended = m_store.set_group_commit(std::nullopt); !ended) {
    m_warnings.push_back("could not commit the journal and audit log: " + ended.error().message);
  }
}

}  // namespace controller
