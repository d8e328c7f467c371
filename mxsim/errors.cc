#include "mxsim/errors.h"

namespace mxsim {

MatrixError::MatrixError(int status, std::string errcode, const std::string& message, nlohmann::json extra)
    : std::runtime_error(message), m_status(status), m_errcode(std::move(errcode)), m_extra(std::move(extra)) {}

nlohmann::json MatrixError::body() const {
  nlohmann::json body = {{"errcode", m_errcode}, {"error", what()}};
  if (m_extra.is_object()) {
    for (auto it = m_extra.begin(); it != m_extra.end(); ++it) {
      body[it.key()] = it.value();
    }
  }
  return body;
}

MatrixError forbidden(const std::string& message) { return MatrixError(403, "M_FORBIDDEN", message); }

MatrixError not_found(const std::string& message) { return MatrixError(404, "M_NOT_FOUND", message); }

MatrixError bad_json(const std::string& message) { return MatrixError(400, "M_BAD_JSON", message); }

MatrixError not_json() { return MatrixError(400, "M_NOT_JSON", "Content not JSON."); }

MatrixError missing_param(const std::string& message) { return MatrixError(400, "M_MISSING_PARAM", message); }

MatrixError invalid_param(const std::string& message) { return MatrixError(400, "M_INVALID_PARAM", message); }

MatrixError unknown_error(int status, const std::string& message) { return MatrixError(status, "M_UNKNOWN", message); }

MatrixError user_suspended(const std::string& message) { return MatrixError(403, "M_USER_SUSPENDED", message); }

MatrixError limit_exceeded(long long retry_after_ms) {
  return MatrixError(429, "M_LIMIT_EXCEEDED", "Too Many Requests", {{"retry_after_ms", retry_after_ms}});
}

}  // namespace mxsim
