// Tells when this machine's addresses change, without polling: the page's certificate names the
// addresses a browser reaches the device at, and a board that started before DHCP answered had
// none of them yet.
#pragma once
#include <cstdint>
#include <memory>

namespace tracklight::platform {

class AddressWatch {
 public:
  enum class Event { Changed, TimedOut, Stopped };
  AddressWatch();  // subscribes to the kernel's address events (rtnetlink)
  ~AddressWatch();
  AddressWatch(const AddressWatch&) = delete;
  AddressWatch& operator=(const AddressWatch&) = delete;
  bool watching() const;  // false: no events here (no netlink); wait() only times out or stops
  // Blocks until an address was added or removed (Changed), stop() was called (Stopped), or
  // timeout_ms passed (TimedOut; also returned early for other routing news: callers go by their
  // clock, not by how long wait() took).
  Event wait(int64_t timeout_ms);
  void stop();  // any thread; every wait() from then on returns Stopped

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tracklight::platform
