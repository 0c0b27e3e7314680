#include "firmware/metrics/http_counts.hpp"

namespace tracklight::firmware {

const char* route_class_name(RouteClass c) {
  static const char* const kNames[kRouteClasses] = {"page", "api", "board", "assets", "healthz", "metrics", "other"};
  return kNames[static_cast<int>(c)];
}

void HttpCounts::count(RouteClass c, int status) {
  const uint32_t key = (static_cast<uint32_t>(c) + 1) << 16 | (static_cast<uint32_t>(status) & 0xffff);
  for (Slot& s : slots_) {
    uint32_t have = s.key.load(std::memory_order_acquire);
    // A free slot is claimed for this pair; if another worker claimed it first, `have` now holds
    // that worker's pair and the search goes on unless it is the same one.
    if (have == 0 && s.key.compare_exchange_strong(have, key, std::memory_order_acq_rel)) have = key;
    if (have == key) {
      s.count.fetch_add(1, std::memory_order_relaxed);
      return;
    }
  }
}

std::vector<HttpCounts::Sample> HttpCounts::samples() const {
  std::vector<Sample> out;
  for (const Slot& s : slots_) {
    const uint32_t key = s.key.load(std::memory_order_acquire);
    if (key == 0) break;  // slots are claimed in order: the rest are free
    out.push_back({static_cast<RouteClass>((key >> 16) - 1), static_cast<int>(key & 0xffff),
                   s.count.load(std::memory_order_relaxed)});
  }
  return out;
}

}  // namespace tracklight::firmware
