// What is particular to the PostgreSQL state store, against a real server:
// its schema (made once, refused when foreign or newer), and its pass lock,
// an advisory lock of the store's session: held by one session, named when
// refused, released and taken over when that session ends, confirmed by
// its holder (the executor's fence) and refused by `unlock` while alive.

#include "adapters/store/postgres_state_store.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>

#include "adapters/appservice_transactions.h"
#include "adapters/postgres/postgres_connection.h"
#include "tests/support/eventually.h"
#include "tests/support/postgres_server.h"

namespace postgres_state_store_test {

namespace {

using namespace std::chrono_literals;
using adapters::PostgresStateStore;
using Kind = model::Error::Kind;

std::unique_ptr<PostgresStateStore> open_store(const std::string& database) {
  auto store = PostgresStateStore::open(database);
  INFO((store ? std::string() : store.error().message));
  REQUIRE(store);
  return std::move(*store);
}

std::unique_ptr<adapters::postgres::Connection> raw(const std::string& database) {
  auto connection = adapters::postgres::Connection::open(database, "mxctl store test");
  REQUIRE(connection);
  return std::move(*connection);
}

std::string one_value(adapters::postgres::Connection& connection, const std::string& sql) {
  auto rows = connection.query("read", sql);
  INFO((rows ? std::string() : rows.error().message));
  REQUIRE(rows);
  REQUIRE(rows->rows.size() == 1);
  return rows->rows[0].at(0).value_or("NULL");
}

}  // namespace

TEST_CASE("postgres store: the schema is made once, in schema mxctl", "[postgres_store]") {
  const std::string database = testing_support::fresh_database_uri();
  if (database.empty()) {
    return;
  }
  {
    auto store = open_store(database);
    CHECK(store->created());
    REQUIRE(store->set_room_id("community/a", "!a:x"));
  }
  auto again = open_store(database);
  CHECK_FALSE(again->created());
  CHECK(again->room_ids().value() == std::map<std::string, std::string>{{"community/a", "!a:x"}});
  auto db = raw(database);
  CHECK(one_value(*db, "SELECT version FROM mxctl.schema_version") ==
        std::to_string(PostgresStateStore::k_schema_version));
  // Nothing outside its schema: the database may be the application's.
  CHECK(one_value(*db, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == "0");
}

TEST_CASE("postgres store: a foreign schema mxctl and a newer version are refused untouched", "[postgres_store]") {
  const std::string database = testing_support::fresh_database_uri();
  if (database.empty()) {
    return;
  }
  auto db = raw(database);
  SECTION("a schema mxctl that is not a store") {
    REQUIRE(db->execute("make a foreign schema", "CREATE SCHEMA mxctl; CREATE TABLE mxctl.things (x int)"));
    auto store = PostgresStateStore::open(database);
    REQUIRE_FALSE(store);
    CHECK(store.error().kind == Kind::invalid);
    CHECK(store.error().message.find("not an mxctl state store") != std::string::npos);
    CHECK(one_value(*db, "SELECT count(*) FROM pg_tables WHERE schemaname = 'mxctl'") == "1");
  }
  SECTION("a newer version") {
    open_store(database).reset();
    REQUIRE(db->execute("pretend a newer mxctl wrote it", "UPDATE mxctl.schema_version SET version = 99"));
    auto store = PostgresStateStore::open(database);
    REQUIRE_FALSE(store);
    CHECK(store.error().message.find("schema version 99") != std::string::npos);
    CHECK(store.error().message.find("upgrade mxctl") != std::string::npos);
    CHECK(one_value(*db, "SELECT version FROM mxctl.schema_version") == "99");
  }
  SECTION("a version that does not read") {
    open_store(database).reset();
    REQUIRE(db->execute("damage the version", "INSERT INTO mxctl.schema_version VALUES (1)"));
    auto store = PostgresStateStore::open(database);
    REQUIRE_FALSE(store);
    CHECK(store.error().message.find("damaged") != std::string::npos);
  }
}

TEST_CASE("postgres store: the pass lock is one session's, named to whoever finds it taken", "[postgres_store]") {
  const std::string database = testing_support::fresh_database_uri();
  if (database.empty()) {
    return;
  }
  auto leader = open_store(database);
  auto other = open_store(database);
  auto held = leader->lock("run");
  REQUIRE(held);
  CHECK((*held)->took_over().empty());
  CHECK((*held)->still_held());

  auto refused = other->lock("reconcile");
  REQUIRE_FALSE(refused);
  CHECK(refused.error().kind == Kind::conflict);
  const std::string& message = refused.error().message;
  CHECK(message.find("another mxctl pass (run, pid ") != std::string::npos);
  CHECK(message.find("database session " + std::to_string(leader->backend_pid())) != std::string::npos);
  CHECK(message.find("pg_terminate_backend(" + std::to_string(leader->backend_pid()) + ")") != std::string::npos);
  // The same process asking twice is refused too.
  auto twice = leader->lock("run");
  REQUIRE_FALSE(twice);
  CHECK(twice.error().kind == Kind::conflict);

  // A plan saves what it learnt only while nobody holds the lock.
  adapters::CacheUpdate update;
  update.room_ids = {{"community/a", "!a:x"}};
  CHECK(other->save_cache_unless_locked(update).value() == false);

  held->reset();
  auto taken = other->lock("reconcile");
  REQUIRE(taken);
  CHECK((*taken)->took_over().empty());
}

TEST_CASE("postgres store: a holder whose session ends loses the lock, and the next one takes it over",
          "[postgres_store]") {
  const std::string database = testing_support::fresh_database_uri();
  if (database.empty()) {
    return;
  }
  auto leader = open_store(database);
  auto standby = open_store(database);
  auto held = leader->lock("run");
  REQUIRE(held);
  auto run = leader->begin_run("run");
  REQUIRE(run);
  auto db = raw(database);
  CHECK(one_value(*db, "SELECT pg_terminate_backend(" + std::to_string(leader->backend_pid()) + ")") == "t");

  // The holder learns it at its next confirmation, and says so from then on.
  CHECK_FALSE((*held)->still_held());
  CHECK((*held)->lost());
  auto write = leader->set_room_id("community/late", "!late:x");
  REQUIRE_FALSE(write);
  CHECK(write.error().kind == Kind::transient);

  std::unique_ptr<adapters::StoreLock> taken;
  REQUIRE(testing_support::eventually(
      [&] {
        auto attempt = standby->lock("run");
        if (attempt) {
          taken = std::move(*attempt);
        }
        return taken != nullptr;
      },
      10s));
  CHECK(taken->took_over().find("took over the pass lock of run, pid ") != std::string::npos);
  CHECK(taken->took_over().find("its database session ended") != std::string::npos);
  auto runs = standby->runs(-1);
  REQUIRE(runs);
  REQUIRE(runs->size() == 1);
  CHECK(runs->front().outcome == "interrupted");
  adapters::AuditQuery query;
  query.key = "lock";
  auto audit = standby->audit(query);
  REQUIRE(audit);
  REQUIRE(audit->size() == 1);
  CHECK(audit->front().action == "take_over_lock");
  held->reset();  // the old holder's release touches nothing now
  CHECK(taken->still_held());
}

TEST_CASE("postgres store: the appservice transaction log opens a new session when its own ended",
          "[postgres_store]") {
  const std::string database = testing_support::fresh_database_uri();
  if (database.empty()) {
    return;
  }
  auto store = open_store(database);
  auto log = adapters::open_transaction_log(database);
  REQUIRE(log);
  CHECK((*log)->record_transaction("txn-1") == true);

  // Every other session ends, as when the server restarts: the log's too.
  auto db = raw(database);
  const std::string others =
      "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = "
      "'client backend'";
  CHECK(one_value(*db, "SELECT count(pg_terminate_backend(pid)) " + others) != "0");
  REQUIRE(testing_support::eventually([&] { return one_value(*db, "SELECT count(*) " + others) == "0"; }, 10s));

  auto after = (*log)->record_transaction("txn-2");
  INFO((after ? std::string() : after.error().message));
  REQUIRE(after);
  CHECK(*after);
  auto repeat = (*log)->record_transaction("txn-1");
  REQUIRE(repeat);
  CHECK_FALSE(*repeat);
}

TEST_CASE("postgres store: unlock removes a dead holder's row only", "[postgres_store]") {
  const std::string database = testing_support::fresh_database_uri();
  if (database.empty()) {
    return;
  }
  auto leader = open_store(database);
  auto operator_store = open_store(database);
  auto held = leader->lock("run");
  REQUIRE(held);
  auto db = raw(database);
  const std::string lock_id = one_value(*db, "SELECT lock_id FROM mxctl.lock");

  auto wrong = operator_store->unlock("0000000000000000");
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error().kind == Kind::conflict);
  auto alive = operator_store->unlock(lock_id);
  REQUIRE_FALSE(alive);
  CHECK(alive.error().kind == Kind::conflict);
  CHECK(alive.error().message.find("which is alive") != std::string::npos);

  // A holder killed outright leaves its row; its session is gone.
  CHECK(one_value(*db, "SELECT pg_terminate_backend(" + std::to_string(leader->backend_pid()) + ")") == "t");
  REQUIRE(testing_support::eventually([&] {
    return one_value(*db, "SELECT count(*) FROM pg_stat_activity WHERE pid = " +
                              std::to_string(leader->backend_pid())) == "0";
  }));
  held->reset();
  auto removed = operator_store->unlock(lock_id);
  INFO((removed ? std::string() : removed.error().message));
  REQUIRE(removed);
  CHECK(removed->find("run, pid ") == 0);
  CHECK(one_value(*db, "SELECT count(*) FROM mxctl.lock") == "0");
  auto none = operator_store->unlock(lock_id);
  REQUIRE_FALSE(none);
  CHECK(none.error().kind == Kind::not_found);
}

TEST_CASE("postgres store: grouped writes commit together, and a failed one loses only itself", "[postgres_store]") {
  const std::string database = testing_support::fresh_database_uri();
  if (database.empty()) {
    return;
  }
  auto store = open_store(database);
  auto db = raw(database);
  REQUIRE(store->set_group_commit(adapters::GroupCommit{500, std::chrono::hours(1)}));
  REQUIRE(store->set_room_id("community/a", "!a:x"));
  REQUIRE(store->mark_message_sent("community/a"));
  // Not visible to another session until committed; visible to this one.
  CHECK(one_value(*db, "SELECT count(*) FROM mxctl.rooms") == "0");
  CHECK(store->room_ids().value().size() == 1);
  auto conflict = store->set_room_id("community/b", "!a:x");
  REQUIRE_FALSE(conflict);
  CHECK(conflict.error().kind == Kind::conflict);
  REQUIRE(store->mark_room_written("!a:x"));
  REQUIRE(store->flush());
  CHECK(one_value(*db, "SELECT count(*) FROM mxctl.rooms") == "1");
  CHECK(one_value(*db, "SELECT count(*) FROM mxctl.messages_sent") == "1");
  CHECK(one_value(*db, "SELECT count(*) FROM mxctl.rooms_written") == "1");

  SECTION("a session ended with writes pending says how many were lost") {
    REQUIRE(store->mark_message_sent("community/c"));
    REQUIRE(store->mark_message_sent("community/d"));
    CHECK(one_value(*db, "SELECT pg_terminate_backend(" + std::to_string(store->backend_pid()) + ")") == "t");
    auto flushed = store->flush();
    REQUIRE_FALSE(flushed);
    CHECK(flushed.error().kind == Kind::transient);
    CHECK(flushed.error().message.find("(2 grouped writes lost)") != std::string::npos);
    CHECK(one_value(*db, "SELECT count(*) FROM mxctl.messages_sent") == "1");
  }
}

}  // namespace postgres_state_store_test
