// The leader lease and the bounded connection against a real PostgreSQL
// server: one session holds the lease, and it passes on when the holder's
// session ends however it ends (closed, its process killed, terminated by
// an operator); a holder whose server stops answering learns within its
// bound that it cannot count on the lease.

#include "adapters/postgres/postgres_lease.h"

#include <catch2/catch.hpp>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>

#include "adapters/postgres/postgres_connection.h"
#include "tests/support/eventually.h"
#include "tests/support/postgres_server.h"
#include "tests/support/temp_dir.h"

namespace postgres_lease_test {

namespace {

using namespace std::chrono_literals;
using adapters::postgres::Connection;
using testing_support::eventually;

std::unique_ptr<Connection> connect(const std::string& database, const std::string& name = "mxctl lease test") {
  auto connection = Connection::open(database, name);
  REQUIRE(connection);
  return std::move(*connection);
}

bool takes(Connection& connection, std::int64_t key) {
  auto taken = adapters::postgres::take_lease(connection, key);
  REQUIRE(taken);
  return *taken;
}

}  // namespace

TEST_CASE("lease key: the same name gives the same non-negative key, another name another", "[postgres_lease]") {
  using adapters::postgres::lease_key;
  CHECK(lease_key("mxctl") == lease_key("mxctl"));
  CHECK(lease_key("mxctl") != lease_key("other"));
  for (const char* name : {"", "mxctl", "public", "a much longer schema name than most"}) {
    CHECK(lease_key(name) >= 0);
  }
}

TEST_CASE("lease: one session holds it, and it passes on when that session closes", "[postgres_lease]") {
  const std::string database = testing_support::fresh_database_uri();
  if (database.empty()) {
    return;
  }
  const std::int64_t key = adapters::postgres::lease_key("public");
  auto first = connect(database);
  auto second = connect(database);
  CHECK(takes(*first, key));
  CHECK_FALSE(takes(*second, key));
  CHECK(adapters::postgres::holds_lease(*first, key, 5s));
  CHECK_FALSE(adapters::postgres::holds_lease(*second, key, 5s));
  // Another key is another lease.
  CHECK(takes(*second, adapters::postgres::lease_key("another schema")));

  first.reset();
  CHECK(eventually([&] { return takes(*second, key); }, 10s));
  CHECK(adapters::postgres::holds_lease(*second, key, 5s));
}

TEST_CASE("lease: released, it can be taken by another, and releasing one not held is not_found", "[postgres_lease]") {
  const std::string database = testing_support::fresh_database_uri();
  if (database.empty()) {
    return;
  }
  const std::int64_t key = adapters::postgres::lease_key("public");
  auto first = connect(database);
  auto second = connect(database);
  REQUIRE(takes(*first, key));
  REQUIRE(adapters::postgres::release_lease(*first, key));
  CHECK_FALSE(adapters::postgres::holds_lease(*first, key, 5s));
  CHECK(takes(*second, key));
  auto again = adapters::postgres::release_lease(*first, key);
  REQUIRE_FALSE(again);
  CHECK(again.error().kind == model::Error::Kind::not_found);
  // The first session is still fine to use.
  CHECK(first->usable());
}

TEST_CASE("lease: a holder killed outright leaves it to the next", "[postgres_lease]") {
  const std::string database = testing_support::fresh_database_uri();
  if (database.empty()) {
    return;
  }
  const std::int64_t key = adapters::postgres::lease_key("public");
  // A process that takes the lease, says so, and waits idle until killed:
  // a leader between passes.
  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  const pid_t holder = ::fork();
  REQUIRE(holder >= 0);
  if (holder == 0) {
    ::close(ready[0]);
    auto connection = Connection::open(database, "mxctl lease holder");
    if (connection && adapters::postgres::take_lease(**connection, key).value_or(false)) {
      (void)!::write(ready[1], "1", 1);
      for (;;) {
        ::pause();
      }
    }
    ::_exit(1);
  }
  ::close(ready[1]);
  pollfd wait_ready{ready[0], POLLIN, 0};
  const bool held = ::poll(&wait_ready, 1, 30000) == 1;
  char byte = 0;
  const bool said = held && ::read(ready[0], &byte, 1) == 1;
  ::close(ready[0]);
  auto standby = connect(database);
  const bool refused = said && !takes(*standby, key);
  ::kill(holder, SIGKILL);
  int status = 0;
  ::waitpid(holder, &status, 0);
  REQUIRE(said);
  CHECK(refused);
  CHECK(eventually([&] { return takes(*standby, key); }, 10s));
}

TEST_CASE("lease: a holder whose session is terminated knows it at its next confirmation", "[postgres_lease]") {
  const std::string database = testing_support::fresh_database_uri();
  if (database.empty()) {
    return;
  }
  const std::int64_t key = adapters::postgres::lease_key("public");
  auto leader = connect(database);
  auto standby = connect(database);
  REQUIRE(takes(*leader, key));
  REQUIRE(adapters::postgres::holds_lease(*leader, key, 5s));
  auto terminated = standby->query("terminate the leader's session", "SELECT pg_terminate_backend($1::int)",
                                   {std::to_string(leader->backend_pid())});
  REQUIRE(terminated);
  CHECK(terminated->rows.at(0).at(0) == "t");

  CHECK_FALSE(adapters::postgres::holds_lease(*leader, key, 5s));
  CHECK_FALSE(leader->usable());
  // Every later use fails as transient, saying why, and never reconnects.
  auto later = leader->query("read after the end", "SELECT 1");
  REQUIRE_FALSE(later);
  CHECK(later.error().kind == model::Error::Kind::transient);
  CHECK(later.error().message.find("cannot read after the end") != std::string::npos);
  CHECK(eventually([&] { return takes(*standby, key); }, 10s));
}

TEST_CASE("lease: a holder whose server stops answering stops counting on it within its bound", "[postgres_lease]") {
  const std::string database = testing_support::fresh_database_uri();
  if (database.empty()) {
    return;
  }
  const std::int64_t key = adapters::postgres::lease_key("public");
  auto leader = connect(database);
  auto standby = connect(database);
  REQUIRE(takes(*leader, key));
  // The leader's server process stops (as a hung host would); the socket stays open.
  const pid_t backend = leader->backend_pid();
  REQUIRE(::kill(backend, SIGSTOP) == 0);
  const auto asked = std::chrono::steady_clock::now();
  const bool held = adapters::postgres::holds_lease(*leader, key, 300ms);
  const auto took = std::chrono::steady_clock::now() - asked;
  ::kill(backend, SIGCONT);
  CHECK_FALSE(held);
  CHECK(took < 3s);
  CHECK_FALSE(leader->usable());
  CHECK(leader->closed_because().find("no answer within 300 ms") != std::string::npos);
  // The server ends the session once it runs again and finds the socket closed.
  CHECK(eventually([&] { return takes(*standby, key); }, 10s));
}

TEST_CASE("postgres connection: errors say what was being done, classified, without the password",
          "[postgres_lease]") {
  SECTION("a database libpq cannot parse") {
    auto opened = Connection::open("host=x password='hunter2 dbname=y", "mxctl");
    REQUIRE_FALSE(opened);
    CHECK(opened.error().kind == model::Error::Kind::invalid);
    CHECK(opened.error().message.find("hunter2") == std::string::npos);
  }
  SECTION("a server that is not there") {
    testing_support::TempDir dir;
    auto opened = Connection::open("postgresql://app:hunter2@/app?host=" + dir.path().string(), "mxctl");
    REQUIRE_FALSE(opened);
    CHECK(opened.error().kind == model::Error::Kind::transient);
    CHECK(opened.error().message.find("cannot connect to database postgresql://app:<redacted>@") !=
          std::string::npos);
    CHECK(opened.error().message.find("hunter2") == std::string::npos);
  }
  SECTION("statements") {
    const std::string database = testing_support::fresh_database_uri();
    if (database.empty()) {
      return;
    }
    auto connection = connect(database);
    REQUIRE(connection->execute("make a table", "CREATE TABLE t (k text PRIMARY KEY); INSERT INTO t VALUES ('a')"));
    auto duplicate = connection->query("insert a duplicate", "INSERT INTO t VALUES ($1)", {"a"});
    REQUIRE_FALSE(duplicate);
    CHECK(duplicate.error().kind == model::Error::Kind::conflict);
    CHECK(duplicate.error().message.rfind("cannot insert a duplicate: duplicate key value", 0) == 0);
    auto wrong = connection->query("read a missing table", "SELECT * FROM missing");
    REQUIRE_FALSE(wrong);
    CHECK(wrong.error().kind == model::Error::Kind::invalid);
    // An error leaves the connection usable; values come back as text, NULL as nothing.
    auto rows = connection->query("read values", "SELECT $1::text AS a, NULL::text AS b, 42 AS c", {"x"});
    REQUIRE(rows);
    CHECK(rows->columns == std::vector<std::string>{"a", "b", "c"});
    REQUIRE(rows->rows.size() == 1);
    CHECK(rows->rows[0][0] == "x");
    CHECK_FALSE(rows->rows[0][1].has_value());
    CHECK(rows->rows[0][2] == "42");
    // A statement that runs past its bound closes the connection.
    auto slow = connection->query_within(200ms, "wait", "SELECT pg_sleep(5)");
    REQUIRE_FALSE(slow);
    CHECK(slow.error().kind == model::Error::Kind::transient);
    CHECK_FALSE(connection->usable());
  }
}

}  // namespace postgres_lease_test
