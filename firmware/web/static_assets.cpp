#include "firmware/web/assets.hpp"
#include "firmware/web/router.hpp"

namespace tracklight::firmware {

const Asset* find_asset(std::string_view path) {
  for (const Asset* a = assets_begin(); a != assets_end(); ++a)
    if (a->path == path) return a;
  return nullptr;
}

HttpResponse serve_asset(const HttpRequest& req) {
  const Asset* a = find_asset(req.path == "/" ? "/index.html" : req.path);
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
  const std::string* ae = req.header("Accept-Encoding");
  bool gzip = ae && ae->find("gzip") != std::string::npos;
  r.content_type = std::string(a->mime);
  if (gzip) {
    r.headers.emplace_back("Content-Encoding", "gzip");
    r.body.assign(reinterpret_cast<const char*>(a->gz), a->gz_size);
  } else {
    r.body.assign(reinterpret_cast<const char*>(a->data), a->size);
  }
  return r;
}

}  // namespace tracklight::firmware
