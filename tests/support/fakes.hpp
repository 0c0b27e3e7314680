// Test doubles for the platform interfaces: in-memory files with fault injection, a clock the
// test moves, and deterministic entropy.
#pragma once
#include <cerrno>
#include <cstring>
#include <map>
#include <set>
#include <string>

#include "platform/clock.hpp"
#include "platform/entropy.hpp"
#include "platform/fs.hpp"
#include "platform/crypto.hpp"
#include "platform/https_client.hpp"
#include <functional>
#include <memory>
#include <vector>

namespace tracklight::test {

class MemoryFs : public platform::Fs {
 public:
  std::map<std::string, std::string> files;
  std::set<std::string> dirs;
  int fail_writes_errno = 0;  // every atomic write fails with this errno while set

  Result<std::string> read_file(const std::string& path, size_t max_bytes) override {
    auto it = files.find(path);
    if (it == files.end()) return Error{ErrorCode::NotFound, "open " + path, ENOENT, "No such file or directory"};
    if (it->second.size() > max_bytes) return Error{ErrorCode::BadInput, "read " + path, 0, "too large"};
    return it->second;
  }
  Status write_file_atomic(const std::string& path, const std::string& data,
                           const platform::AtomicWriteOptions& opts) override {
    if (fail_writes_errno)
      return Error{fail_writes_errno == ENOSPC ? ErrorCode::NoSpace : ErrorCode::IoError, "write " + path + ".tmp",
                   fail_writes_errno, std::strerror(fail_writes_errno)};
    if (opts.create_only && files.count(path)) return Error{ErrorCode::Conflict, "rename " + path, EEXIST, "File exists"};
    if (opts.keep_backup && files.count(path)) files[path + ".bak"] = files[path];
    files[path] = data;
    return ok_status();
  }
  Status copy_file(const std::string& from, const std::string& to) override {
    auto data = read_file(from, 1 << 24);
    if (!data) return data.error();
    files[to] = *data;
    return ok_status();
  }
  Status remove(const std::string& path) override {
    files.erase(path);
    return ok_status();
  }
  bool exists(const std::string& path) override { return files.count(path) || dirs.count(path); }
  Status make_private_dir(const std::string& path) override {
    dirs.insert(path);
    return ok_status();
  }
  Result<bool> make_private_file(const std::string&) override { return false; }
};

class FakeClock : public platform::Clock {
 public:
  int64_t now_ms = 1000;
  int64_t wall_s = 1795000000;  // 2026-11-18
  int64_t monotonic_ms() override { return now_ms; }
  int64_t wall_time_s() override { return wall_s; }
};

// Distinct, repeatable bytes: a counter run through a simple mixer.
class CountingEntropy : public platform::Entropy {
 public:
  uint64_t state = 0x9e3779b97f4a7c15ULL;
  Status fill(unsigned char* out, size_t len) override {
    for (size_t i = 0; i < len; ++i) {
      state ^= state << 13;
      state ^= state >> 7;
      state ^= state << 17;
      out[i] = static_cast<unsigned char>(state);
    }
    return ok_status();
  }
};

// HTTPS without a network: open() fails with `open_error` when set, else every GET is answered
// by `respond` (the default: 404) and every POST by `respond_post` (the default: `respond` of
// the path). Requests are recorded with their headers and bodies, and the targets opened.
class FakeHttps : public platform::HttpsConnector {
 public:
  struct Request {
    std::string path;
    platform::HeaderList headers;
    std::string method = "GET", body, host;
  };
  Error open_error{ErrorCode::IoError, "", 0, ""};
  bool fail_open = false;
  std::function<platform::HttpsResponse(const std::string& path)> respond = [](const std::string&) {
    platform::HttpsResponse r;
    r.status = 404;
    return r;
  };
  std::function<platform::HttpsResponse(const std::string& path, const std::string& body)> respond_post;
  std::vector<Request> requests;
  std::vector<platform::HttpsTarget> opened;
  platform::TlsPeer peer{"TLSv1.2", "TLS-ECDHE-RSA-WITH-AES-128-GCM-SHA256", "CN=fake", "CN=fake CA",
                         "2025-01-01", "2045-01-01", {"localhost"}};

  Result<std::unique_ptr<platform::HttpsConnection>> open(const platform::HttpsTarget& t) override {
    opened.push_back(t);
    if (fail_open) return open_error;
    return std::unique_ptr<platform::HttpsConnection>(std::make_unique<Conn>(*this, t.host));
  }

 private:
  struct Conn : platform::HttpsConnection {
    Conn(FakeHttps& f, std::string host) : f_(f), host_(std::move(host)) {}
    Result<platform::HttpsResponse> get(const std::string& path, const platform::HeaderList& headers) override {
      f_.requests.push_back({path, headers, "GET", "", host_});
      return f_.respond(path);
    }
    Result<platform::HttpsResponse> post(const std::string& path, const platform::HeaderList& headers,
                                         const std::string& body, const std::string&) override {
      f_.requests.push_back({path, headers, "POST", body, host_});
      return f_.respond_post ? f_.respond_post(path, body) : f_.respond(path);
    }
    const platform::TlsPeer& peer() const override { return f_.peer; }
    FakeHttps& f_;
    std::string host_;
  };
};

// A JWT as an identity provider writes one (base64url parts, no padding) with `payload` as its
// claims; the signature is not a real one (the agent reads id_tokens for display only).
inline std::string unsigned_jwt(const std::string& payload) {
  return platform::base64url_encode(R"({"alg":"RS256"})") + "." + platform::base64url_encode(payload) + ".sig";
}

// An answer with a JSON body.
inline platform::HttpsResponse json_answer(int status, const std::string& body) {
  platform::HttpsResponse r;
  r.status = status;
  r.headers = {{"Content-Type", "application/json; charset=utf-8"}};
  r.body = body;
  return r;
}

// A Jira Cloud that accepts any credentials and grants every permission.
inline platform::HttpsResponse happy_jira_cloud(const std::string& path) {
  platform::HttpsResponse r;
  r.status = 200;
  r.headers = {{"Content-Type", "application/json"}};
  if (path.find("serverInfo") != std::string::npos)
    r.body = R"({"version":"1001.0.0","versionNumbers":[1001,0,0],"deploymentType":"Cloud"})";
  else if (path.find("myself") != std::string::npos)
    r.body = R"({"accountId":"5b10","emailAddress":"mia@example.com","displayName":"Mia"})";
  else if (path.find("mypermissions") != std::string::npos)
    r.body = R"({"permissions":{"BROWSE_PROJECTS":{"havePermission":true},"CREATE_ISSUES":{"havePermission":true},)"
             R"("EDIT_ISSUES":{"havePermission":true},"TRANSITION_ISSUES":{"havePermission":true},)"
             R"("CREATE_ATTACHMENTS":{"havePermission":true},"ADD_COMMENTS":{"havePermission":true},)"
             R"("DELETE_ALL_COMMENTS":{"havePermission":true},"USER_PICKER":{"havePermission":true}}})";
  else
    r.status = 404;
  return r;
}

// Azure DevOps Services where the token sees one project, Fiber.
inline platform::HttpsResponse happy_azure(const std::string& path) {
  platform::HttpsResponse r;
  r.status = 200;
  r.headers = {{"Content-Type", "application/json; charset=utf-8"}};
  if (path.find("/_apis/connectionData") != std::string::npos)
    r.body = R"({"authenticatedUser":{"id":"8d1e0c2a-1b5c-4a6e-9a51-3f7c2b6d9e10","providerDisplayName":"Mia"}})";
  else if (path.find("/_apis/projects/") != std::string::npos)
    r.body = R"({"id":"eb6e4656-77fc-42a1-9181-4c6d8e9da5d0","name":"Fiber","state":"wellFormed"})";
  else if (path.find("/_apis/projects") != std::string::npos)
    r.body = R"({"count":1,"value":[{"id":"eb6e4656-77fc-42a1-9181-4c6d8e9da5d0","name":"Fiber"}]})";
  else if (path.find("/_apis/build/builds") != std::string::npos || path.find("/_apis/tfvc/") != std::string::npos)
    r.body = R"({"count":1,"value":[{"id":7}]})";
  else
    r.status = 404;
  return r;
}

}  // namespace tracklight::test
