#include "platform/internal/mbedtls_init.hpp"

#include <psa/crypto.h>

namespace tracklight::platform {

Status tls_library_ready() {
  // A function-local static: initialised exactly once even when the monitor, the board poller
  // and a Test start their first handshakes at the same moment.
  static const psa_status_t status = psa_crypto_init();
  if (status != PSA_SUCCESS)
    return Error{ErrorCode::CryptoFailed, "TLS setup", status,
                 "the crypto library could not start (PSA error " + std::to_string(status) +
                     "): the system's random source may be unavailable"};
  return ok_status();
}

}  // namespace tracklight::platform
