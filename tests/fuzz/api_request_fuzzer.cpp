// The request router and every handler behind it, with in-memory files. Input layout:
// "METHOD PATH\nHeader: value\n...\n\nbody". A logged-in session is injected for half the
// inputs so the admin handlers are reached too.
#include <cstdint>
#include <memory>
#include <string>

#include "firmware/agent.hpp"
#include "tests/support/fakes.hpp"

using namespace tracklight;

namespace {
struct World {
  test::MemoryFs fs;
  test::FakeClock clock;
  test::CountingEntropy entropy;
  platform::MemoryLogger log;  // grows; a fresh world is made every 1000 inputs
  test::FakeHttps https;
  std::unique_ptr<firmware::Agent> agent;
  std::string cookie, csrf;
  World() {
    firmware::AgentOptions o;
    o.state_dir = "s";
    o.password_iterations = 1;
    agent = std::make_unique<firmware::Agent>(o, fs, clock, entropy, log, https);
    (void)agent->start();
    auto& st = agent->state();
    st.config.agent.admin_password_hash = "pbkdf2-sha256$1$AA==$AA==";
    cookie = *st.sessions.create(entropy, clock.now_ms);
    csrf = st.sessions.find(cookie, clock.now_ms)->csrf_token;
  }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static std::unique_ptr<World> world;
  static int runs = 0;
  if (!world || ++runs % 1000 == 0) world = std::make_unique<World>();
  std::string in(reinterpret_cast<const char*>(data), size);
  platform::HttpRequest req;
  size_t head_end = in.find("\n\n");
  std::string head = in.substr(0, head_end);
  req.body = head_end == std::string::npos ? "" : in.substr(head_end + 2);
  size_t nl = head.find('\n');
  std::string line = head.substr(0, nl);
  size_t sp = line.find(' ');
  req.method = line.substr(0, sp);
  req.path = sp == std::string::npos ? "/" : line.substr(sp + 1);
  size_t q = req.path.find('?');
  if (q != std::string::npos) {
    req.query.emplace_back("verify", req.path.substr(q + 1));
    req.path.resize(q);
  }
  for (size_t pos = nl; pos != std::string::npos && pos < head.size();) {
    size_t next = head.find('\n', pos + 1);
    std::string h = head.substr(pos + 1, next == std::string::npos ? std::string::npos : next - pos - 1);
    size_t colon = h.find(':');
    if (colon != std::string::npos) req.headers.emplace_back(h.substr(0, colon), h.substr(colon + 1));
    pos = next;
  }
  req.remote_addr = "127.0.0.1";
  if (size % 2 == 0) {
    req.headers.emplace_back("Cookie", "tracklight_session=" + world->cookie);
    req.headers.emplace_back("X-CSRF-Token", world->csrf);
  }
  platform::HttpResponse res = world->agent->handle(req);
  if (res.status < 200 || res.status > 599) __builtin_trap();
  return 0;
}
