// Web assets embedded at build time (tools/cmake/embed_assets.cmake generates the table).
#pragma once
#include <cstddef>
#include <string_view>

namespace tracklight::firmware {

struct Asset {
  std::string_view path;  // "/index.html"
  std::string_view mime;
  std::string_view etag;  // quoted content hash
  const unsigned char* gz;  // the file (shrunk by tools/minify_asset.py), gzip-compressed
  size_t gz_size;
};

const Asset* assets_begin();
const Asset* assets_end();
const Asset* find_asset(std::string_view path);

}  // namespace tracklight::firmware
