#include "platform/entropy.hpp"

#include <cerrno>
#include <cstring>
#include <sys/random.h>

namespace tracklight::platform {

Result<std::string> Entropy::bytes(size_t len) {
  std::string out(len, '\0');
  Status st = fill(reinterpret_cast<unsigned char*>(out.data()), len);
  if (!st) return st.error();
  return out;
}

Status LinuxEntropy::fill(unsigned char* out, size_t len) {
  size_t done = 0;
  while (done < len) {
    ssize_t n = ::getrandom(out + done, len - done, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error{ErrorCode::EntropyFailed, "getrandom", errno, std::strerror(errno)};
    done += static_cast<size_t>(n);
  }
  return ok_status();
}

}  // namespace tracklight::platform
