// The HTTP requests the agent answered, by route class and status code, for GET /metrics.
//
// Counted once the router has an answer, so requests the server refuses before they reach the
// router (framing, sizes, timeouts, connection limits: see platform/http_server.hpp) are not in
// here; the refusal log names those.
//
// Thread-safety: lock-free. Every HTTP worker bumps a counter per request, so a request must not
// queue behind a lock for this. A fixed table of slots, each claimed once for one (class,
// status) pair with a compare-and-swap. The agent answers about 17 status codes, so the pairs fit
// with room to spare; the table's size bounds the number of series whatever happens (an answer
// that finds it full is not counted).
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace tracklight::firmware {

enum class RouteClass { Page, Api, Board, Assets, Healthz, Metrics, Other };
constexpr int kRouteClasses = 7;
const char* route_class_name(RouteClass c);  // "page", "api", ...

class HttpCounts {
 public:
  static constexpr size_t kSlots = 192;

  void count(RouteClass c, int status);

  struct Sample {
    RouteClass route;
    int status;
    uint64_t count;
  };
  // Every pair seen so far, in the order first seen.
  std::vector<Sample> samples() const;

 private:
  struct Slot {
    std::atomic<uint32_t> key{0};  // 0 = free; else (class + 1) << 16 | status
    std::atomic<uint64_t> count{0};
  };
  Slot slots_[kSlots];
};

}  // namespace tracklight::firmware
