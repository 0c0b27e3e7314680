// Reading tracker answers (and the board cache) without trusting their types. A tracker, a
// proxy in front of it or an edited file can put any JSON type where the documentation promises
// another, and nlohmann::json's value()/get<>() throw on that. Every read here is total instead:
//
//   - an absent member, or a member that is null, reads as "not there" ("", nullopt, a node
//     that is not present): trackers send null for "no value" (an unfinished build's result);
//   - a value of another type also reads as "not there", and the document remembers it, so the
//     decoder reads what it needs and then reports the first mismatch by its path:
//     "field authenticatedUser.id is an integer, expected a string";
//   - an array element is never "absent": a null element is a mismatch as well.
//
//   JsonDoc doc(response);                        // not present unless the body is JSON
//   JsonNode user = doc.root().object("authenticatedUser");
//   const std::string id = user.string("id");
//   if (doc.failed()) report(unexpected_answer(path, doc));
//
// A JsonDoc owns the parsed text; its nodes point into it and must not outlive it. Not
// thread-safe: one decoder on one thread.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>
#include "platform/https_client.hpp"

namespace tracklight::firmware {

class JsonDoc;

// A position in a JsonDoc: a value and the path that leads to it.
class JsonNode {
 public:
  JsonNode() = default;  // not present
  bool present() const { return v_ && !v_->is_null(); }
  bool is_object() const { return v_ && v_->is_object(); }
  bool is_array() const { return v_ && v_->is_array(); }
  bool is_string() const { return v_ && v_->is_string(); }  // asking is no mismatch
  const std::string& path() const { return path_; }

  // Members of an object. A member read from a value that is not an object is a mismatch.
  JsonNode member(const char* key) const;  // any type
  JsonNode object(const char* key) const { return member(key).as_object(); }
  JsonNode array(const char* key) const { return member(key).as_array(); }
  std::string string(const char* key) const { return member(key).as_string(); }
  std::optional<int64_t> int64(const char* key) const { return member(key).as_int64(); }
  std::optional<bool> boolean(const char* key) const { return member(key).as_bool(); }

  // Elements of an array (0 and not present when this is not an array).
  size_t size() const;
  JsonNode item(size_t i) const;

  // This value as one type; "" / nullopt / not present when it is not there or of another type.
  JsonNode as_object() const;
  JsonNode as_array() const;
  std::string as_string() const;
  std::optional<int64_t> as_int64() const;
  std::optional<bool> as_bool() const;

 private:
  friend class JsonDoc;
  JsonNode(const nlohmann::json* v, const JsonDoc* doc, std::string path, bool is_member)
      : v_(v), doc_(doc), path_(std::move(path)), member_(is_member) {}
  // Present and of the wanted type; otherwise records a mismatch (unless absent or a null member).
  bool expect(bool ok, const char* want) const;

  const nlohmann::json* v_ = nullptr;
  const JsonDoc* doc_ = nullptr;
  std::string path_;
  bool member_ = true;  // reached by a key: null means "no value" there
};

class JsonDoc {
 public:
  // The body when the answer says it is JSON and it parses; otherwise nothing is present.
  explicit JsonDoc(const platform::HttpsResponse& r);
  // Any text (the board cache).
  explicit JsonDoc(const std::string& text);
  JsonDoc(const JsonDoc&) = delete;
  JsonDoc& operator=(const JsonDoc&) = delete;

  bool parsed() const { return !value_.is_discarded(); }  // the text was JSON (of any type)
  bool is_object() const { return value_.is_object(); }
  JsonNode root() const;
  JsonNode root_array() const;  // for the answers that are a list (Atlassian's accessible-resources)

  // Type mismatches seen so far: "field x is a string, expected an object" (the document
  // itself: "the answer is an array, expected an object").
  bool failed() const { return count_ > 0; }
  size_t error_count() const { return count_; }
  const std::string& first_error() const;
  const std::string& error(size_t i) const;  // the i-th mismatch (a general text beyond the kept ones)

 private:
  friend class JsonNode;
  void mismatch(const JsonNode& at, const char* have, const char* want) const;

  nlohmann::json value_;
  mutable std::vector<std::string> errors_;  // the first few, to name them
  mutable size_t count_ = 0;
};

// "unexpected answer from GET /rest/api/2/serverInfo: field versionNumbers[0] is a string,
// expected an integer" (the query, which may be long, is left out).
std::string unexpected_answer(const std::string& path, const JsonDoc& doc);
std::string request_name(const std::string& path);  // "GET /path" without the query

// The answer says it is JSON (Content-Type).
bool is_json(const platform::HttpsResponse& r);
// `s` cut to at most `max` bytes without splitting a UTF-8 sequence, marked with an ellipsis.
std::string clip_utf8(const std::string& s, size_t max);

}  // namespace tracklight::firmware
