#include "firmware/tracker/json_read.hpp"

#include "firmware/model/connection_rules.hpp"
#include "firmware/model/text.hpp"

namespace tracklight::firmware {
namespace {

using nlohmann::json;

constexpr size_t kKeptErrors = 64;  // enough to name one per cache entry; memory stays bounded

const char* type_name(const json& v) {
  switch (v.type()) {
    case json::value_t::object: return "an object";
    case json::value_t::array: return "an array";
    case json::value_t::string: return "a string";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "an integer";
    case json::value_t::number_float: return "a number with a fraction";
    case json::value_t::null: return "null";
    default: return "not JSON";
  }
}

}  // namespace

bool JsonNode::expect(bool ok, const char* want) const {
  if (!v_) return false;
  if (ok) return true;
  if (!(member_ && v_->is_null())) doc_->mismatch(*this, type_name(*v_), want);
  return false;
}

JsonNode JsonNode::member(const char* key) const {
  const std::string at = path_.empty() ? std::string(key) : path_ + "." + key;
  if (!expect(v_ && v_->is_object(), "an object")) return JsonNode(nullptr, doc_, at, true);
  auto it = v_->find(key);
  return JsonNode(it == v_->end() ? nullptr : &*it, doc_, at, true);
}

size_t JsonNode::size() const {
  const auto* a = v_ ? v_->get_ptr<const json::array_t*>() : nullptr;
  return a ? a->size() : 0;
}

JsonNode JsonNode::item(size_t i) const {
  const std::string at = path_ + "[" + std::to_string(i) + "]";
  const auto* a = v_ ? v_->get_ptr<const json::array_t*>() : nullptr;
  if (!expect(a != nullptr, "an array") || i >= a->size()) return JsonNode(nullptr, doc_, at, false);
  return JsonNode(&(*a)[i], doc_, at, false);
}

JsonNode JsonNode::as_object() const { return expect(is_object(), "an object") ? *this : JsonNode(); }

JsonNode JsonNode::as_array() const { return expect(is_array(), "an array") ? *this : JsonNode(); }

std::string JsonNode::as_string() const {
  const auto* s = v_ ? v_->get_ptr<const json::string_t*>() : nullptr;
  return expect(s != nullptr, "a string") ? *s : std::string();
}

std::optional<int64_t> JsonNode::as_int64() const {
  if (!v_) return std::nullopt;
  // Checked in this order: get_ptr<number_integer_t*> also answers for an unsigned value.
  if (const auto* u = v_->get_ptr<const json::number_unsigned_t*>()) {
    if (*u <= static_cast<json::number_unsigned_t>(INT64_MAX)) return static_cast<int64_t>(*u);
    doc_->mismatch(*this, "an integer beyond 64 bits", "an integer");
    return std::nullopt;
  }
  if (const auto* i = v_->get_ptr<const json::number_integer_t*>()) return static_cast<int64_t>(*i);
  expect(false, "an integer");
  return std::nullopt;
}

std::optional<bool> JsonNode::as_bool() const {
  const auto* b = v_ ? v_->get_ptr<const json::boolean_t*>() : nullptr;
  if (!expect(b != nullptr, "true or false")) return std::nullopt;
  return *b;
}

JsonDoc::JsonDoc(const platform::HttpsResponse& r)
    : value_(is_json(r) ? json::parse(r.body, nullptr, false) : json(json::value_t::discarded)) {}

JsonDoc::JsonDoc(const std::string& text) : value_(json::parse(text, nullptr, false)) {}

JsonNode JsonDoc::root() const {
  if (!parsed()) return JsonNode();  // a sign-in page or an error text: the caller says what it is
  return JsonNode(&value_, this, "", false).as_object();
}

JsonNode JsonDoc::root_array() const {
  if (!parsed()) return JsonNode();
  return JsonNode(&value_, this, "", false).as_array();
}

void JsonDoc::mismatch(const JsonNode& at, const char* have, const char* want) const {
  ++count_;
  if (errors_.size() >= kKeptErrors) return;
  errors_.push_back((at.path().empty() ? "the answer is " : "field " + at.path() + " is ") + have + ", expected " +
                    want);
}

const std::string& JsonDoc::first_error() const { return error(0); }

const std::string& JsonDoc::error(size_t i) const {
  static const std::string kNone, kMore = "a field has an unexpected type";
  if (i < errors_.size()) return errors_[i];
  return i < count_ ? kMore : kNone;
}

std::string request_name(const std::string& path) { return "GET " + path.substr(0, path.find('?')); }

std::string unexpected_answer(const std::string& path, const JsonDoc& doc) {
  return "unexpected answer from " + request_name(path) + (doc.failed() ? ": " + doc.first_error() : "");
}

bool is_json(const platform::HttpsResponse& r) {
  const std::string* ct = r.header("Content-Type");
  return ct && lower(*ct).find("json") != std::string::npos;
}

std::string clip_utf8(const std::string& s, size_t max) {
  if (s.size() <= max) return s;
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;  // not inside a sequence
  return s.substr(0, n) + "\u2026";
}

}  // namespace tracklight::firmware
