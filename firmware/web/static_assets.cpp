// The page's assets, embedded gzip-compressed only: a plain copy of each would cost the binary
// as much again (SPEC section 8). Every browser accepts gzip, and a request without
// Accept-Encoding accepts any coding (RFC 9110 section 12.5.3); a client that refuses gzip gets
// 406 with the way out (curl --compressed).
#include <algorithm>
#include <cctype>

#include "firmware/model/text.hpp"
#include "firmware/web/assets.hpp"
#include "firmware/web/router.hpp"

namespace tracklight::firmware {
namespace {

// Whether Accept-Encoding allows gzip: listed (or "*") without q=0, or no header at all.
bool accepts_gzip(const std::string* header) {
  if (!header) return true;
  bool gzip = false, star = false, gzip_listed = false;
  size_t at = 0;
  while (at <= header->size()) {
    size_t end = header->find(',', at);
    if (end == std::string::npos) end = header->size();
    std::string item = lower(header->substr(at, end - at));
    at = end + 1;
    const size_t semi = item.find(';');
    std::string name = item.substr(0, semi), params = semi == std::string::npos ? "" : item.substr(semi + 1);
    auto trim = [](std::string& s) {
      while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
      while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.erase(0, 1);
    };
    trim(name);
    params.erase(std::remove_if(params.begin(), params.end(), [](unsigned char c) { return std::isspace(c); }), params.end());
    // q=0, q=0.0, q=0.000: refused; any other weight accepts.
    const bool refused = params.rfind("q=0", 0) == 0 && params.find_first_not_of("0.", 2) == std::string::npos;
    if (name == "gzip" || name == "x-gzip") {
      gzip_listed = true;
      gzip = gzip || !refused;
    } else if (name == "*") {
      star = !refused;
    }
  }
  return gzip || (!gzip_listed && star);
}

}  // namespace

const Asset* find_asset(std::string_view path) {
  for (const Asset* a = assets_begin(); a != assets_end(); ++a)
    if (a->path == path) return a;
  return nullptr;
}

HttpResponse serve_asset(const HttpRequest& req) {
  const Asset* a = find_asset(req.path == "/" || req.path == "/oauth/callback" ? "/index.html" : req.path);
  if (!a) return error_response(404, "not_found", "no such page: " + req.path);
  HttpResponse r;
  r.headers.emplace_back("ETag", std::string(a->etag));
  r.headers.emplace_back("Cache-Control", "no-cache");  // revalidate; the ETag makes that a 304
  r.headers.emplace_back("Vary", "Accept-Encoding");
  const std::string* inm = req.header("If-None-Match");
  if (inm && *inm == a->etag) {
    r.status = 304;
    return r;
  }
  if (!accepts_gzip(req.header("Accept-Encoding")))
    return error_response(406, "gzip_required",
                          "the page is served gzip-compressed only: use a web browser, or curl --compressed");
  r.content_type = std::string(a->mime);
  r.headers.emplace_back("Content-Encoding", "gzip");
  r.body.assign(reinterpret_cast<const char*>(a->gz), a->gz_size);
  return r;
}

}  // namespace tracklight::firmware
