// The local HTTP server. The application sees plain HttpRequest/HttpResponse values and one
// handler function; cpp-httplib stays inside httplib_server.cpp.
//
// Limits enforced here: the request line (414) and header block (431) at 8 KiB each, 100
// headers, body size (413), strict framing (400, see http_framing.hpp), deadlines for the head
// and the whole request counted from their first byte (408), a bound on open connections in
// total and per client address. Only complete requests reach the fixed worker pool, so slow or
// idle clients cannot hold it. Refusals are logged through a RefusalLog (rate-limited).
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>
#include "platform/log.hpp"
#include "platform/result.hpp"

namespace tracklight::platform {

using HeaderList = std::vector<std::pair<std::string, std::string>>;
// The first header called `name` (case-insensitive), or nullptr.
const std::string* find_header(const HeaderList& headers, const std::string& name);

struct HttpRequest {
  std::string method;  // GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS
  std::string path;    // percent-decoded path, no query
  HeaderList query;    // decoded query parameters, in order
  HeaderList headers;  // as received, in order
  std::string body;
  std::string remote_addr;
  bool secure = false;  // arrived over TLS (the HTTPS listener)
  std::string target;   // the request target as sent: path and query, percent-encoded
  const std::string* header(const std::string& name) const;  // first match, case-insensitive
  size_t header_count(const std::string& name) const;
  const std::string* query_param(const std::string& name) const;
  size_t header_block_bytes() const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type;
  std::string body;
  HeaderList headers;
  std::string refused_by;  // a refusal rule (CSRF, Origin, Host...): the server logs it, rate-limited
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                 // 0 picks a free port
  size_t max_body_bytes = 64 * 1024;
  size_t max_header_bytes = 8 * 1024;
  size_t workers = 4;
  size_t max_connections = 128;            // open at once; the longest-waiting one makes room
  size_t max_connections_per_client = 16;  // per address, except loopback (bounded by the total)
  int header_deadline_s = 5;       // request line and headers must arrive within this
  int request_deadline_s = 10;     // the whole request must arrive within this
  int write_timeout_s = 5;         // a client that does not read its answer
  int keepalive_timeout_s = 5;
  size_t keepalive_max_requests = 100;
  HeaderList error_headers;        // added to the errors cpp-httplib answers by itself
  std::string tls_cert_pem;        // both set: this listener speaks only HTTPS (TLS 1.3 and 1.2)
  std::string tls_key_pem;
};

class HttpServer {
 public:
  HttpServer(HttpServerOptions opts, HttpHandler handler, Logger& log);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  Result<int> bind();  // returns the bound port
  void run();          // serves until stop()
  void stop();
  // Returns once run() has started its workers and waits for connections, or has ended.
  void wait_until_serving();
  // An HTTPS listener's new certificate and key (PEM), for connections accepted from now on;
  // any thread. On an error the current certificate stays.
  Status replace_certificate(const std::string& cert_pem, const std::string& key_pem);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tracklight::platform
