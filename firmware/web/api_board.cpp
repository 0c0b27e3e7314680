// The kiosk board over HTTP (SPEC section 5): the /board page, its data (/api/v1/board), the
// CCTray feed (/cc.xml), and the read-only board key. The key is shown once when rotated and
// stored only as a hash; it opens these three routes and nothing else (router.cpp).
#include "firmware/board/board_source.hpp"
#include "firmware/model/text.hpp"
#include "firmware/web/connection_json.hpp"
#include "firmware/web/router.hpp"
#include "platform/crypto.hpp"

namespace tracklight::firmware {
namespace {

std::vector<BoardSource> current_board(AgentState& s) {
  return s.board ? s.board->sources() : std::vector<BoardSource>{};
}

// An unchanged board costs a 304: the ETag is a hash of the exact bytes.
HttpResponse with_etag(const HttpRequest& req, HttpResponse r) {
  const std::string etag = "\"" + to_hex(platform::sha256(r.body).substr(0, 12)) + "\"";
  r.headers.emplace_back("ETag", etag);
  const std::string* inm = req.header("If-None-Match");
  if (inm && (inm->find(etag) != std::string::npos || *inm == "*")) {
    r.status = 304;
    r.body.clear();
    r.content_type.clear();
  }
  return r;
}

}  // namespace

std::string board_key_hash(const std::string& key) { return "sha256:" + to_hex(platform::sha256(key)); }

HttpResponse handle_board_page(AgentState&, const HttpRequest& req, const std::string&) {
  HttpRequest page = req;
  page.path = "/board.html";
  return serve_asset(page);
}

HttpResponse handle_board(AgentState& s, const HttpRequest& req, const std::string&) {
  HttpResponse r;
  r.content_type = "application/json";
  r.body = board_json(current_board(s));
  return with_etag(req, std::move(r));
}

HttpResponse handle_cctray(AgentState& s, const HttpRequest& req, const std::string&) {
  HttpResponse r;
  r.content_type = "application/xml; charset=utf-8";
  r.body = cctray_xml(current_board(s));
  return with_etag(req, std::move(r));
}

HttpResponse handle_rotate_board_key(AgentState& s, const HttpRequest& req, const std::string&) {
  if (!req.body.empty()) {
    nlohmann::json j;
    const std::string why = parse_json_body(req.body, j);
    if (!why.empty()) return error_response(400, "bad_json", why);
    if (!j.empty()) return error_response(400, "unknown_field", j.begin().key() + " is not a known field", j.begin().key());
  }
  auto raw = s.entropy.bytes(20);
  if (!raw) return error_response(500, "entropy_failed", "no random bytes for the key: " + raw.error().message());
  const std::string key = to_hex(*raw);
  Status st = s.commit([&](Config& next) {
    next.agent.board_key_hash = board_key_hash(key);
    return ok_status();
  });
  if (!st) return commit_failed(st);
  s.log.info("board", "board key rotated; links with the old key no longer work");
  return json_response(200, {{"key", key}, {"path", "/board?key=" + key}});
}

}  // namespace tracklight::firmware
