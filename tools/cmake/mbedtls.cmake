# mbedTLS 3.6 LTS from Debian's source package (tools/bootstrap puts it in build/deps/mbedtls),
# built here as one static library with tracklight's own configuration (platform/mbedtls_config.h)
# and optimised for size in every build type: the crypto is not what the tests exercise, and a
# Debug build of the bignum code makes every handshake in the test suite several times slower.
# Its own CMake project is not used: it would inherit our warning flags, and it builds programs
# and tests we do not want.
set(TRACKLIGHT_MBEDTLS_DIR "${CMAKE_CURRENT_SOURCE_DIR}/build/deps/mbedtls" CACHE PATH
    "mbedTLS 3.6 source tree from Debian's source package (tools/bootstrap)")
if(NOT EXISTS "${TRACKLIGHT_MBEDTLS_DIR}/include/mbedtls/build_info.h")
  message(FATAL_ERROR "mbedTLS source not found in ${TRACKLIGHT_MBEDTLS_DIR}: run tools/bootstrap")
endif()
file(STRINGS "${TRACKLIGHT_MBEDTLS_DIR}/include/mbedtls/build_info.h" _mbedtls_version
     REGEX "^#define MBEDTLS_VERSION_STRING ")
string(REGEX REPLACE ".*\"([0-9.]+)\".*" "\\1" _mbedtls_version "${_mbedtls_version}")
# 3.6.7 is the first 3.6 whose TLS 1.2 client accepts a server's RSA-PSS signature again.
if(NOT _mbedtls_version MATCHES "^3\\.6\\." OR _mbedtls_version VERSION_LESS 3.6.7)
  message(FATAL_ERROR "${TRACKLIGHT_MBEDTLS_DIR} holds mbedTLS ${_mbedtls_version}, not 3.6.7 or a later 3.6: run tools/bootstrap")
endif()
message(STATUS "mbedTLS ${_mbedtls_version} from ${TRACKLIGHT_MBEDTLS_DIR}")

file(GLOB TRACKLIGHT_MBEDTLS_SRC CONFIGURE_DEPENDS "${TRACKLIGHT_MBEDTLS_DIR}/library/*.c")
add_library(tracklight_mbedtls STATIC ${TRACKLIGHT_MBEDTLS_SRC})
target_include_directories(tracklight_mbedtls SYSTEM PUBLIC "${TRACKLIGHT_MBEDTLS_DIR}/include")
target_include_directories(tracklight_mbedtls PUBLIC "${CMAKE_CURRENT_SOURCE_DIR}")
target_include_directories(tracklight_mbedtls PRIVATE "${TRACKLIGHT_MBEDTLS_DIR}/library")
target_compile_definitions(tracklight_mbedtls PUBLIC MBEDTLS_CONFIG_FILE="platform/mbedtls_config.h")
# Our warning flags are for our code; mbedTLS is built with its own expectations.
set_target_properties(tracklight_mbedtls PROPERTIES C_STANDARD 99 C_EXTENSIONS ON)
# Debian builds mbedTLS with this (debian/rules: "Disable buggy efficient unaligned access"); it is
# a build flag, not a patch, so `apt-get source` does not carry it. It matters on armhf.
target_compile_definitions(tracklight_mbedtls PRIVATE MBEDTLS_ALIGNMENT_DISABLE_EFFICENT_UNALIGNED_ACCESS)
target_compile_options(tracklight_mbedtls PRIVATE -Os -ffunction-sections -fdata-sections -w)
# C code that no exception crosses needs no unwind tables: 24 kB less .eh_frame in the binary. The
# callbacks mbedTLS makes into our code (platform/mbedtls_https.cpp) are noexcept for this.
target_compile_options(tracklight_mbedtls PRIVATE -fno-asynchronous-unwind-tables -fno-unwind-tables)
target_link_libraries(tracklight_mbedtls PUBLIC Threads::Threads)
