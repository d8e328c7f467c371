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
// What a kept state's seal is made over, before the digest and the bytes.
constexpr std::string_view k_seal_tag = "mxctl.desired-state.1";
// A seal is the MAC's 64 hex digits in front of the state's bytes.
constexpr std::size_t k_seal_size = 64;

std::string seal_of(const std::string& secret, const std::string& digest, std::string_view bytes) {
  model::ByteWriter head;
  head.text(k_seal_tag);
  head.text(digest);
  std::string message = std::move(head).take();
  message.append(bytes);
  return adapters::hmac_sha256_hex(secret, message);
}

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

std::optional<model::MatrixState> recall_desired(adapters::CompiledDesiredCache& cache, const std::string& digest,
                                                 const std::string& secret) {
  auto sealed = recall_desired_bytes(cache, digest);
  return sealed ? open_desired(*sealed, digest, secret) : std::nullopt;
}

bool keeps_desired(adapters::CompiledDesiredCache& cache, const std::string& digest) {
  auto kept = cache.compiled_desired_digest();
  return kept && *kept && **kept == digest;
}

std::optional<std::string> recall_desired_bytes(adapters::CompiledDesiredCache& cache, const std::string& digest) {
  auto kept = cache.compiled_desired();
  if (!kept || !*kept || (*kept)->digest != digest) {
    return std::nullopt;
  }
  return std::move((*kept)->state);
}

std::optional<model::MatrixState> open_desired(const std::string& sealed, const std::string& digest,
                                               const std::string& secret) {
  if (secret.empty() || sealed.size() < k_seal_size) {
    return std::nullopt;
  }
  const std::string_view bytes = std::string_view(sealed).substr(k_seal_size);
  if (!adapters::same_digest(std::string_view(sealed).substr(0, k_seal_size), seal_of(secret, digest, bytes))) {
    return std::nullopt;
  }
  return model::decode_matrix_state(bytes);
}

void keep_desired(adapters::CompiledDesiredCache& cache, const std::string& digest, const model::MatrixState& state,
                  const std::string& secret) {
  const std::string bytes = model::encode_matrix_state(state);
  // Best effort by design: the result is not needed for this pass.
  (void)cache.keep_compiled_desired({digest, seal_of(secret, digest, bytes) + bytes});
}

}  // namespace controller
