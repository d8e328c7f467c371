// What the client records for a later replay: each GET answered with a 2xx,
// by path and the digest of its bytes, and a read made again for its
// digest alone gives the same digest for the same bytes.

#include <catch2/catch.hpp>

#include <httplib.h>

#include <thread>

#include "adapters/homeserver/matrix_client.h"
#include "adapters/sha256.h"

namespace matrix_client_replay_test {

namespace {

std::string sha256(const std::string& text) {
  adapters::Sha256 digest;
  digest.update(text);
  return digest.hex();
}

}  // namespace

TEST_CASE("matrix client: reads are recorded for a replay, and a replayed read gives the same digest",
          "[client][replay]") {
  std::string users = R"({"users":[],"total":0})";
  httplib::Server server;
  server.Get("/users", [&](const httplib::Request&, httplib::Response& res) { res.set_content(users, "application/json"); });
  server.Get("/missing", [](const httplib::Request&, httplib::Response& res) {
    res.status = 404;
    res.set_content(R"({"errcode":"M_NOT_FOUND","error":"no"})", "application/json");
  });
  server.Get("/sync", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"next_batch":"s1"})", "application/json");
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  std::thread thread([&] { server.listen_after_bind(); });
  while (!server.is_running()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  adapters::MatrixClient client("http://127.0.0.1:" + std::to_string(port), "token");

  REQUIRE(client.get("/users"));  // before recording: not recorded
  client.record_reads();
  REQUIRE(client.get("/users"));
  REQUIRE_FALSE(client.get("/missing"));                                    // no 2xx: not recorded
  REQUIRE(client.get("/sync", [](int, nlohmann::json::parse_event_t, nlohmann::json&) { return true; }));  // streamed
  REQUIRE(client.put("/users", nlohmann::json::object()).error().status == 404);  // not a read
  auto recorded = client.take_recorded_reads();
  CHECK(recorded == std::vector<adapters::RecordedRead>{{"/users", sha256(users)}});
  REQUIRE(client.get("/users"));
  CHECK(client.take_recorded_reads().empty());  // taking them stopped the recording

  auto same = client.get_digest("/users");
  REQUIRE(same);
  CHECK(*same == sha256(users));
  users = R"({"users":[{"name":"@a:x"}],"total":1})";
  auto changed = client.get_digest("/users");
  REQUIRE(changed);
  CHECK(*changed != *same);
  CHECK_FALSE(client.get_digest("/missing"));

  server.stop();
  thread.join();
}

}  // namespace matrix_client_replay_test
