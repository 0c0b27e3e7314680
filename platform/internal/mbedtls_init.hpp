// mbedTLS 3.6 runs TLS 1.3 (and its random generator) on the PSA crypto core, which must be
// initialised once per process before the first handshake or key operation.
#pragma once
#include "platform/result.hpp"

namespace tracklight::platform {

// Initialises the PSA core if it is not yet (thread-safe, cheap once it is).
Status tls_library_ready();

}  // namespace tracklight::platform
