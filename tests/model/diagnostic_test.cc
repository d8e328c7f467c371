#include <catch2/catch.hpp>

#include "model/diagnostic.h"

namespace diagnostic_test {

TEST_CASE("diagnostic: printed as path:line:col: message", "[diagnostic]") {
  model::Diagnostic d{{"manifests/users.yaml", 12, 5}, "user \"ann\": unknown field \"nme\""};
  CHECK(d.to_string() == "manifests/users.yaml:12:5: user \"ann\": unknown field \"nme\"");
  SECTION("a location without a line prints only its name") {
    model::Diagnostic db{{"table communities, row riverside, column name"}, "missing value"};
    CHECK(db.to_string() == "table communities, row riverside, column name: missing value");
  }
}

TEST_CASE("diagnostic: sorting orders by file, line, column and keeps ties stable", "[diagnostic]") {
  model::Diagnostics list = {
      {{"b.yaml", 1, 1}, "third"},
      {{"a.yaml", 9, 2}, "second"},
      {{"a.yaml", 2, 7}, "first"},
      {{"b.yaml", 1, 1}, "fourth"},
  };
  model::sort_diagnostics(list);
  std::vector<std::string> order;
  for (const auto& d : list) {
    order.push_back(d.message);
  }
  CHECK(order == std::vector<std::string>{"first", "second", "third", "fourth"});
}

TEST_CASE("diagnostic: an origin falls back to the object's location", "[diagnostic]") {
  model::Origin origin;
  origin.object = {"c.yaml", 3, 1};
  origin.fields["spec.community"] = {"c.yaml", 6, 14};
  CHECK(origin.of("spec.community") == model::SourceLocation{"c.yaml", 6, 14});
  CHECK(origin.of("spec.name") == model::SourceLocation{"c.yaml", 3, 1});
}

}  // namespace diagnostic_test
