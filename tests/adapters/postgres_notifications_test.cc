// LISTEN/NOTIFY against a real PostgreSQL server: a NOTIFY on the channel
// reaches the callback, other channels do not, a lost connection is made
// again (and counts as a notification), and a bad channel is refused.

#include "adapters/appdb/postgres_notifications.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>

#include "tests/support/app_databases.h"
#include "tests/support/postgres_server.h"

namespace postgres_notifications_test {

namespace {

using namespace std::chrono_literals;

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds limit = 20s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!condition() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  return condition();
}

}  // namespace

TEST_CASE("postgres notifications: a NOTIFY on the channel reaches the callback", "[postgres_notify]") {
  testing_support::PostgresServer* server = testing_support::shared_postgres_server();
  if (server == nullptr) {
    return;
  }
  const std::string name = testing_support::fresh_database_name();
  server->create_database(name);
  std::atomic<int> calls{0};
  auto listening = adapters::PostgresNotifications::start(server->conninfo(name), "app_changed", [&] { ++calls; });
  REQUIRE(listening);

  testing_support::execute_sql(server->uri(name), "NOTIFY other_channel;");
  testing_support::execute_sql(server->uri(name), "NOTIFY app_changed, 'users';");
  CHECK(eventually([&] { return calls.load() >= 1; }));
  CHECK(calls.load() == 1);

  SECTION("a connection the server drops is made again") {
    testing_support::execute_sql(
        server->uri(name),
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND pid <> "
        "pg_backend_pid();");
    // The reconnection itself counts: a change may have been missed.
    CHECK(eventually([&] { return calls.load() >= 2; }));
    const int before = calls.load();
    testing_support::execute_sql(server->uri(name), "NOTIFY app_changed;");
    CHECK(eventually([&] { return calls.load() > before; }));
  }
}

TEST_CASE("postgres notifications: a channel that is not a plain identifier is refused", "[postgres_notify]") {
  for (const char* channel : {"", "App", "1abc", "a-b", "a; DROP TABLE x", "x\"y"}) {
    auto refused = adapters::PostgresNotifications::start("host=/nowhere dbname=x", channel, [] {});
    REQUIRE_FALSE(refused);
    CHECK(refused.error().message.find("not a lower-case SQL identifier") != std::string::npos);
  }
  CHECK(adapters::valid_notify_channel("app_changed_2"));
  CHECK_FALSE(adapters::valid_notify_channel(std::string(64, 'a')));
}

TEST_CASE("postgres notifications: a database that cannot be reached is an error naming it", "[postgres_notify]") {
  auto refused = adapters::PostgresNotifications::start("postgresql://u:s3cret@/db?host=/nowhere", "app_changed", [] {});
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message.find("cannot connect to database") != std::string::npos);
  CHECK(refused.error().message.find("s3cret") == std::string::npos);
}

}  // namespace postgres_notifications_test
