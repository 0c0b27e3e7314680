#include "platform/memory.hpp"

#include <malloc.h>

namespace tracklight::platform {

void use_single_heap() {
#ifdef __GLIBC__
  ::mallopt(M_ARENA_MAX, 1);
#endif
}

void return_idle_memory() {
#ifdef __GLIBC__
  ::malloc_trim(0);
#endif
}

}  // namespace tracklight::platform
