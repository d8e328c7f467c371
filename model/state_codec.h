#pragma once
// A compact binary form of the Matrix state, for what the state store keeps
// between passes so that the next one need not parse YAML or JSON again: the
// compiled desired state and the rooms as last read. The store is an input
// like any other, so decoding checks every length, count and enum against
// the bytes it has and reads anything broken as nothing, never as a
// different state.

#include <optional>
#include <string>
#include <string_view>

#include "model/matrix_state.h"
#include "model/observed_state.h"
#include "model/settings.h"

namespace model {

/// The bytes of `state`; decode_matrix_state gives it back equal.
std::string encode_matrix_state(const MatrixState& state);

/// The state `bytes` hold; nothing when they are not a whole, well-formed
/// encoding (truncated, trailing bytes, an enum out of range, another format).
std::optional<MatrixState> decode_matrix_state(std::string_view bytes);

/// The bytes of one observed room; decode_observed_room gives it back equal.
std::string encode_observed_room(const ObservedRoom& room);

/// The room `bytes` hold; nothing when they are not a whole, well-formed encoding.
std::optional<ObservedRoom> decode_observed_room(std::string_view bytes);

/// The bytes of every setting, for digests of what depends on them (never
/// decoded: a setting added to Settings fails to compile here until it is
/// encoded).
std::string encode_settings(const Settings& settings);

}  // namespace model
