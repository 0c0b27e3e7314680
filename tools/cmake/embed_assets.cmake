# cmake -P script: turns every file in WEB_DIR, shrunk by MINIFY (run with PYTHON; JavaScript by
# TERSER, run with NODE, when given), into a byte
# array of its gzip form in OUT (the agent serves only that: see firmware/web/static_assets.cpp).
# Run by the build; the output lives in the build tree and is never committed.
file(GLOB files RELATIVE ${WEB_DIR} ${WEB_DIR}/*)
list(SORT files)
file(MAKE_DIRECTORY ${WORK})
set(body "")
set(index "")
set(n 0)
foreach(name IN LISTS files)
  get_filename_component(ext ${name} EXT)
  if(ext STREQUAL ".html")
    set(mime "text/html; charset=utf-8")
  elseif(ext STREQUAL ".js")
    set(mime "text/javascript; charset=utf-8")
  elseif(ext STREQUAL ".css")
    set(mime "text/css; charset=utf-8")
  elseif(ext STREQUAL ".svg")
    set(mime "image/svg+xml")
  elseif(ext STREQUAL ".png")
    set(mime "image/png")
  else()
    message(FATAL_ERROR "embed_assets: no content type known for web/${name}")
  endif()
  set(small ${WORK}/${name})
  if(ext STREQUAL ".js" AND TERSER)
    # Top-level names too: the scripts are classic scripts that nothing outside them calls.
    execute_process(COMMAND ${NODE} ${TERSER} ${WEB_DIR}/${name} --compress --mangle --toplevel --output ${small}
                    RESULT_VARIABLE rc)
  else()
    execute_process(COMMAND ${PYTHON} ${MINIFY} ${WEB_DIR}/${name} ${small} RESULT_VARIABLE rc)
  endif()
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "embed_assets: could not shrink web/${name}")
  endif()
  file(SHA256 ${small} sha)
  string(SUBSTRING ${sha} 0 16 etag)
  # Raw gzip of one file; mtime-free, so the build is reproducible.
  set(gz ${WORK}/${name}.gz)
  file(ARCHIVE_CREATE OUTPUT ${gz} PATHS ${small} FORMAT raw COMPRESSION GZip
       COMPRESSION_LEVEL 9 MTIME 0)
  file(READ ${gz} hex HEX)
  string(LENGTH "${hex}" hexlen)
  math(EXPR size "${hexlen} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
  string(REGEX REPLACE "((0x..,){24})" "\\1\n" hex "${hex}")
  string(APPEND body "const unsigned char a${n}_gz[] = {\n${hex}0};\n")
  string(APPEND index "  {\"/${name}\", \"${mime}\", \"\\\"${etag}\\\"\", a${n}_gz, ${size}},\n")
  math(EXPR n "${n} + 1")
endforeach()
file(WRITE ${OUT}.tmp "// generated - do not edit. Command: cmake -P tools/cmake/embed_assets.cmake (from web/)
#include \"firmware/web/assets.hpp\"
namespace tracklight::firmware {
namespace {
${body}
const Asset kAssets[] = {
${index}};
}  // namespace
const Asset* assets_begin() { return kAssets; }
const Asset* assets_end() { return kAssets + sizeof(kAssets) / sizeof(kAssets[0]); }
}  // namespace tracklight::firmware
")
file(RENAME ${OUT}.tmp ${OUT})
