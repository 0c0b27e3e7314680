// Response handling: arbitrary bytes as the server's answer to one GET, parsed by cpp-httplib's
// client (status line, headers, chunked or sized bodies) with the agent's body cap, read through
// the same ResponseGuard as the real connection. Must end in a response or an error, never hold
// more than the caps.
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>

#include "platform/internal/bounded_get.hpp"

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

class BytesClient : public httplib::ClientImpl {
 public:
  BytesClient(const uint8_t* data, size_t size, size_t cap)
      : ClientImpl("jira.example", 443), strm_(data, size),
        guard_("GET /rest/api/2/myself", "jira.example", platform::limits_for_body(cap)) {}

 protected:
  bool create_and_connect_socket(Socket& socket, httplib::Error&) override {
    socket.sock = ::dup(2);  // any open descriptor: the bytes come from strm_
    return true;
  }
  bool process_socket(const Socket&, std::chrono::time_point<std::chrono::steady_clock>,
                      std::function<bool(httplib::Stream&)> callback) override {
    platform::GuardedStream guarded(strm_, guard_, nullptr);
    return callback(guarded);
  }
  bool is_ssl() const override { return true; }

 private:
  BytesStream strm_;
  platform::ResponseGuard guard_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  constexpr size_t kCap = 4096;
  BytesClient client(data, size, kCap);
  auto r = platform::bounded_get(client, "/rest/api/2/myself", {{"Authorization", "Bearer x"}}, kCap, "jira.example");
  if (r && r->body.size() > kCap) __builtin_trap();
  if (r && r->headers.size() > platform::ResponseLimits{}.header_lines) __builtin_trap();
  if (!r && r.error().code != ErrorCode::ResponseTooLarge && r.error().code != ErrorCode::BadResponse) __builtin_trap();
  return 0;
}
