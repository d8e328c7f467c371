#include "model/result.h"

namespace model {

const char* to_string(Error::Kind kind) {
  switch (kind) {
    case Error::Kind::invalid: return "invalid";
    case Error::Kind::not_found: return "not_found";
    case Error::Kind::conflict: return "conflict";
    case Error::Kind::forbidden: return "forbidden";
    case Error::Kind::rate_limited: return "rate_limited";
    case Error::Kind::transient: return "transient";
    case Error::Kind::unreachable: return "unreachable";
  }
  return "unknown";
}

}  // namespace model
