#pragma once
// Which build of mxctl is running, for the digests the store keeps derived
// state under: what one build compiled or read is not taken for another's.

#include <string>

namespace adapters {

/// The GNU build ids of the program and every library loaded with it, in
/// load order, as hex; empty when the program itself carries none (then
/// nothing may be keyed by the build).
std::string build_identity();

}  // namespace adapters
