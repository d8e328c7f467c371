#pragma once
// Human-readable rendering of a Matrix state, in the spirit of
// `terraform show`: one block per account and room, fields aligned.

#include <string>

#include "model/matrix_state.h"

namespace controller {

/// Every account then every room (each sorted by key) as HCL-like blocks,
/// followed by a one-line count. Deterministic: the same state always renders
/// to the same text, so it can be diffed and used as a golden.
std::string render_state_text(const model::MatrixState& state);

/// "20 accounts, 14 rooms (5 spaces), 63 memberships".
std::string summarize_state(const model::MatrixState& state);

}  // namespace controller
