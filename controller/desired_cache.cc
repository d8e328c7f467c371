#include "controller/desired_cache.h"

#include <utility>

#include "adapters/build_identity.h"
#include "adapters/sha256.h"
#include "model/byte_codec.h"
#include "model/state_codec.h"

namespace controller {

namespace {

// Bumped when what goes into the digest changes shape.
constexpr std::string_view k_digest_tag = "mxctl.desired-digest.1";

}  // namespace

std::optional<std::string> desired_digest(const adapters::ManifestTexts& manifests, const model::Settings& settings,
                                          const std::string& secret) {
  const std::string build = adapters::build_identity();
  if (build.empty() || secret.empty() || !manifests.diagnostics.empty() ||
      manifests.files.size() != manifests.texts.size()) {
    return std::nullopt;
  }
  model::ByteWriter head;
  head.text(k_digest_tag);
  head.text(build);
  head.text(model::encode_settings(settings));
  head.text(manifests.where);
  head.unsigned_int(manifests.files.size());
  adapters::Sha256 digest;
  digest.update(std::move(head).take());
  // Each file framed by its name and length, so no two sets digest alike.
  for (std::size_t i = 0; i < manifests.files.size(); ++i) {
    model::ByteWriter frame;
    frame.text(manifests.files[i]);
    frame.unsigned_int(manifests.texts[i].size());
    digest.update(std::move(frame).take());
    digest.update(manifests.texts[i]);
  }
  // The inputs' hash, then a MAC of it: the store can hold the result but
  // not make one for a state of its own.
  return adapters::hmac_sha256_hex(secret, digest.hex());
}

std::optional<model::MatrixState> recall_desired(adapters::CompiledDesiredCache& cache, const std::string& digest) {
  auto bytes = recall_desired_bytes(cache, digest);
  return bytes ? model::decode_matrix_state(*bytes) : std::nullopt;
}

std::optional<std::string> recall_desired_bytes(adapters::CompiledDesiredCache& cache, const std::string& digest) {
  auto kept = cache.compiled_desired();
  if (!kept || !*kept || (*kept)->digest != digest) {
    return std::nullopt;
  }
  return std::move((*kept)->state);
}

void keep_desired(adapters::CompiledDesiredCache& cache, const std::string& digest, const model::MatrixState& state) {
  // Best effort by design: the result is not needed for this pass.
  (void)cache.keep_compiled_desired({digest, model::encode_matrix_state(state)});
}

}  // namespace controller
