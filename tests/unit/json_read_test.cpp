// The type-safe reader every decoder of tracker data goes through: absent and null read as "not
// there", a wrong type reads as "not there" too and is named by its path, nothing throws.
#include "firmware/tracker/json_read.hpp"

#include <gtest/gtest.h>

namespace tracklight::firmware {
namespace {

platform::HttpsResponse answer(const std::string& body, const std::string& type = "application/json; charset=utf-8") {
  platform::HttpsResponse r;
  r.status = 200;
  if (!type.empty()) r.headers = {{"Content-Type", type}};
  r.body = body;
  return r;
}

TEST(JsonRead, TypedMembersAbsentAndNull) {
  JsonDoc doc(answer(R"({"s":"x","i":-5,"u":18446744073709551615,"b":true,"n":null,"o":{"k":"v"},"a":[1,"2"]})"));
  const JsonNode root = doc.root();
  EXPECT_EQ(root.string("s"), "x");
  EXPECT_EQ(root.int64("i"), -5);
  EXPECT_EQ(root.boolean("b"), true);
  EXPECT_EQ(root.object("o").string("k"), "v");
  EXPECT_EQ(root.array("a").size(), 2u);
  EXPECT_EQ(root.array("a").item(0).as_int64(), 1);
  // Absent and null members are simply not there.
  EXPECT_EQ(root.string("missing"), "");
  EXPECT_EQ(root.string("n"), "");
  EXPECT_FALSE(root.object("n").present());
  EXPECT_FALSE(root.object("missing").object("deeper").present());
  EXPECT_FALSE(doc.failed()) << doc.first_error();
  // Wrong types are not there either, and named by their path.
  EXPECT_EQ(root.array("a").item(1).as_int64(), std::nullopt);
  EXPECT_EQ(root.string("i"), "");
  EXPECT_EQ(root.int64("u"), std::nullopt);
  EXPECT_EQ(root.object("s").string("k"), "");
  EXPECT_EQ(root.boolean("s"), std::nullopt);
  ASSERT_EQ(doc.error_count(), 5u);
  EXPECT_EQ(doc.error(0), "field a[1] is a string, expected an integer");
  EXPECT_EQ(doc.error(1), "field i is an integer, expected a string");
  EXPECT_EQ(doc.error(2), "field u is an integer beyond 64 bits, expected an integer");
  EXPECT_EQ(doc.error(3), "field s is a string, expected an object");
  EXPECT_EQ(doc.error(4), "field s is a string, expected true or false");
  EXPECT_EQ(unexpected_answer("/rest/api/2/x?secret=no", doc),
            "unexpected answer from GET /rest/api/2/x: field a[1] is a string, expected an integer");
}

TEST(JsonRead, ArrayElementsAreNeverAbsentAndPathsNest) {
  JsonDoc doc(answer(R"({"value":[{"definition":{"name":7}},null,{"x":1}]})"));
  const JsonNode list = doc.root().array("value");
  EXPECT_EQ(list.item(0).object("definition").string("name"), "");
  EXPECT_FALSE(list.item(1).as_object().present());
  EXPECT_FALSE(list.item(9).present());  // beyond the end: nothing, and no mismatch
  ASSERT_EQ(doc.error_count(), 2u);
  EXPECT_EQ(doc.error(0), "field value[0].definition.name is an integer, expected a string");
  EXPECT_EQ(doc.error(1), "field value[1] is null, expected an object");
}

TEST(JsonRead, TheDocumentItselfAndAnswersThatAreNotJson) {
  JsonDoc list(answer("[1,2]"));
  EXPECT_TRUE(list.parsed());
  EXPECT_FALSE(list.root().present());
  EXPECT_EQ(list.first_error(), "the answer is an array, expected an object");
  for (const auto& r : {answer("<html>Sign in</html>", "text/html"), answer(R"({"a":1})", ""), answer("{\"a\":")}) {
    JsonDoc doc(r);
    EXPECT_FALSE(doc.parsed()) << r.body;
    EXPECT_FALSE(doc.root().present());
    EXPECT_FALSE(doc.failed()) << "not JSON is for the caller to name, not a type mismatch";
  }
  JsonDoc text(std::string(R"({"version":1})"));  // the board cache: no Content-Type to check
  EXPECT_EQ(text.root().int64("version"), 1);
}

TEST(JsonRead, MemoryForErrorsIsBounded) {
  std::string body = "{\"a\":[";
  for (int i = 0; i < 5000; ++i) body += std::string(i ? "," : "") + "\"x\"";
  body += "]}";
  JsonDoc doc(answer(body));
  const JsonNode a = doc.root().array("a");
  for (size_t i = 0; i < a.size(); ++i) a.item(i).as_int64();
  EXPECT_EQ(doc.error_count(), 5000u);
  EXPECT_EQ(doc.error(4999), "a field has an unexpected type");
  EXPECT_EQ(doc.error(5000), "");
}

TEST(JsonRead, ClipUtf8NeverSplitsACharacter) {
  EXPECT_EQ(clip_utf8("short", 10), "short");
  EXPECT_EQ(clip_utf8("ab\xc3\xa9" "cd", 3), "ab\u2026");  // é is two bytes: not cut in half
  EXPECT_EQ(clip_utf8("abcdef", 3), "abc\u2026");
}

}  // namespace
}  // namespace tracklight::firmware
