// Response handling: arbitrary bytes as the server's answer to one GET, parsed by the agent's
// HTTP exchange (status line, headers, chunked or sized bodies) with its body cap, read through
// the same ResponseGuard as the real connection. Must end in a response or an error, never hold
// more than the caps.
#include <cstdint>

#include <cstring>

#include "platform/internal/http_exchange.hpp"

using namespace tracklight;

namespace {

class BytesStream : public httplib::Stream {
 public:
  BytesStream(const uint8_t* data, size_t size) : p_(data), n_(size) {}
  bool is_readable() const override { return true; }
  bool wait_readable() const override { return true; }
  bool wait_writable() const override { return true; }
  time_t duration() const override { return 0; }
  ssize_t read(char* out, size_t size) override {
    size = std::min(size, n_);
    std::memcpy(out, p_, size);
    p_ += size;
    n_ -= size;
    return static_cast<ssize_t>(size);
  }
  ssize_t write(const char*, size_t size) override { return static_cast<ssize_t>(size); }
  void get_remote_ip_and_port(std::string& ip, int& port) const override { ip = "127.0.0.1", port = 443; }
  void get_local_ip_and_port(std::string& ip, int& port) const override { ip = "127.0.0.1", port = 1; }
  socket_t socket() const override { return 0; }

 private:
  const uint8_t* p_;
  size_t n_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  constexpr size_t kCap = 4096;
  BytesStream bytes(data, size);
  platform::ResponseGuard guard("GET /rest/api/2/myself", "jira.example", platform::limits_for_body(kCap));
  platform::GuardedStream strm(bytes, guard, nullptr);
  platform::OutgoingRequest req;
  req.target = "/rest/api/2/myself";
  req.host_header = "jira.example";
  req.headers = {{"Authorization", "Bearer x"}};
  bool reusable = false;
  auto r = platform::http_exchange(strm, req, kCap, "jira.example", reusable);
  if (r && r->body.size() > kCap) __builtin_trap();
  if (r && r->headers.size() > platform::ResponseLimits{}.header_lines) __builtin_trap();
  if (!r && r.error().code != ErrorCode::ResponseTooLarge && r.error().code != ErrorCode::BadResponse) __builtin_trap();
  return 0;
}
