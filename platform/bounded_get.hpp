// Internal to platform/ (and its fuzzer): one GET through any cpp-httplib client, with the body
// capped while it streams in, so a hostile Content-Length or an endless chunked body costs at
// most `max_bytes` of memory.
#pragma once
#define _GLIBCXX_IOSTREAM 1  // cpp-httplib never uses the standard streams (see httplib_server.cpp)
#include <httplib.h>

#include <string>
#include "platform/https_client.hpp"

namespace tracklight::platform {

// Transport failures come back as BadResponse naming `host`; the caller may know better.
Result<HttpsResponse> bounded_get(httplib::ClientImpl& client, const std::string& path, const HeaderList& headers,
                                  size_t max_bytes, const std::string& host);

}  // namespace tracklight::platform
