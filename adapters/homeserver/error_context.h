#pragma once
// Errors carry what was being done (and for which key or id), then the
// server's words (method, path, status, errcode, message).

#include <string>

#include <tl/expected.hpp>

#include "adapters/homeserver/matrix_client.h"
#include "model/result.h"

namespace adapters {

/// `error` with "`action`: " before its message and `hint` after it.
inline model::Error with_context(model::Error error, const std::string& action, const std::string& hint = "") {
  error.message = action + ": " + error.message + hint;
  return error;
}

/// with_context of the failure's error.
inline model::Error with_context(const MatrixFailure& failure, const std::string& action,
                                 const std::string& hint = "") {
  return with_context(failure.error, action, hint);
}

/// with_context, as the failed result of any call.
inline tl::unexpected<model::Error> failed(model::Error error, const std::string& action,
                                           const std::string& hint = "") {
  return tl::unexpected(with_context(std::move(error), action, hint));
}

/// with_context of the failure's error, as the failed result of any call.
inline tl::unexpected<model::Error> failed(const MatrixFailure& failure, const std::string& action,
                                           const std::string& hint = "") {
  return failed(failure.error, action, hint);
}

}  // namespace adapters
