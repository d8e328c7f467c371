#pragma once
// Deterministic mutants of YAML text for the differential test: the kinds of
// damage a hand edit, a bad merge, a wrong editor setting or a hostile user
// does to a manifest (byte flips, deletions, YAML indicators in odd places,
// truncations, other line endings, repeated lines, bad encodings).

#include <cstdint>
#include <string>
#include <vector>

namespace tests::yaml_differential {

/// A mutant and how it was made ("flip byte 120 to 0x3a; truncate at 88").
struct Mutant {
  std::string text;
  std::string recipe;
};

/// `count` mutants of `seeds`, taken in turn, each with one to three
/// mutations. The same seed texts and `seed` always give the same mutants,
/// on every platform (no std distributions, whose results are unspecified).
std::vector<Mutant> make_mutants(const std::vector<std::string>& seeds, std::size_t count, std::uint64_t seed);

}  // namespace tests::yaml_differential
