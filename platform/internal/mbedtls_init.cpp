#include "platform/internal/mbedtls_init.hpp"

#include <psa/crypto.h>

namespace tracklight::platform {

Status tls_library_ready() {
  // psa_crypto_init is idempotent and thread-safe (MBEDTLS_THREADING_PTHREAD): after the first
  // success it only checks a flag. Not cached here, so a failure at early boot (the entropy
  // source not ready yet) is retried by the next handshake instead of lasting until a restart.
  const psa_status_t status = psa_crypto_init();
  if (status != PSA_SUCCESS)
    return Error{ErrorCode::CryptoFailed, "TLS setup", status,
                 "the crypto library could not start (PSA error " + std::to_string(status) +
                     "): the system's random source may be unavailable"};
  return ok_status();
}

}  // namespace tracklight::platform
