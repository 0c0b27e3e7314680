// mbedTLS 3.6 runs TLS 1.3 (and its random generator) on the PSA crypto core, which must be
// initialised once per process before the first handshake or key operation.
#pragma once
#include "platform/result.hpp"

namespace tracklight::platform {

// Initialises the PSA core on first use (thread-safe); later calls only report the outcome.
Status tls_library_ready();

}  // namespace tracklight::platform
