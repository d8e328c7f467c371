// libFuzzer target for the differential property of
// tests/yaml_differential/differential_test.cc on any bytes: what libyaml
// rejects mxctl rejects with a position, what both accept both read alike,
// except where they disagree on purpose (compare.cc).

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include "tests/yaml_differential/compare.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::map<std::string, int> tally;
  const std::string why =
      tests::yaml_differential::disagreement(text, tests::yaml_differential::read_with_mxctl(text), tally);
  if (!why.empty()) {
    std::fprintf(stderr, "yaml differential: %s\n", why.c_str());
    std::abort();
  }
  return 0;
}
