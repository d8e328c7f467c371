#pragma once
// Matrix error answers. Handlers throw MatrixError; the dispatcher turns it
// into the JSON body `{"errcode": ..., "error": ...}` with its HTTP status, so
// every endpoint reports failures the same way Synapse does.

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

namespace mxsim {

/// One Matrix error: HTTP status, errcode, human message and any extra body
/// keys (e.g. `retry_after_ms`, `soft_logout`).
class MatrixError : public std::runtime_error {
 public:
  /// `extra` keys are merged into the body next to errcode and error.
  MatrixError(int status, std::string errcode, const std::string& message,
              nlohmann::json extra = nlohmann::json::object());

  /// The HTTP status code of the answer.
  int status() const { return m_status; }
  /// The Matrix errcode, e.g. "M_FORBIDDEN".
  const std::string& errcode() const { return m_errcode; }
  /// Extra body keys (an object, possibly empty).
  const nlohmann::json& extra() const { return m_extra; }
  /// The complete JSON body: errcode, error, then the extra keys.
  nlohmann::json body() const;

 private:
  int m_status;
  std::string m_errcode;
  nlohmann::json m_extra;
};

/// 403 M_FORBIDDEN.
MatrixError forbidden(const std::string& message);
/// 404 M_NOT_FOUND.
MatrixError not_found(const std::string& message);
/// 400 M_BAD_JSON.
MatrixError bad_json(const std::string& message);
/// 400 M_NOT_JSON "Content not JSON." (Synapse's wording).
MatrixError not_json();
/// 400 M_MISSING_PARAM.
MatrixError missing_param(const std::string& message);
/// 400 M_INVALID_PARAM.
MatrixError invalid_param(const std::string& message);
/// `status` M_UNKNOWN: Synapse's errcode for a SynapseError raised without one.
MatrixError unknown_error(int status, const std::string& message);
/// 403 M_USER_SUSPENDED, the answer to a suspended account's write.
MatrixError user_suspended(const std::string& message);
/// 429 M_LIMIT_EXCEEDED with `retry_after_ms`.
MatrixError limit_exceeded(long long retry_after_ms);

}  // namespace mxsim
