//===- JsonSchemaGrammarTest.cpp - schemas accept what they should --------===//
//
// Each schema's grammar against JSON texts that satisfy it and texts that do
// not (the full generation check, many seeds validated by Python's
// jsonschema, is test/Tools/fmc-run-json-schema.test).
//
//===----------------------------------------------------------------------===//

#include "runtime/grammar/Grammar.h"
#include "runtime/grammar/GrammarMatcher.h"
#include "runtime/grammar/JsonSchemaGrammar.h"

#include "gtest/gtest.h"

namespace fmc::grammar {
namespace {

/// Whether the grammar of `schema` accepts exactly `text`.
bool accepts(const std::string &schema, const std::string &text) {
  absl::StatusOr<std::string> gbnf = jsonSchemaToGbnf(schema);
  EXPECT_TRUE(gbnf.ok()) << gbnf.status();
  if (!gbnf.ok())
    return false;
  absl::StatusOr<Grammar> g = Grammar::parse(*gbnf);
  EXPECT_TRUE(g.ok()) << g.status() << "\n" << *gbnf;
  if (!g.ok())
    return false;
  Vocabulary vocabulary({}, {});
  GrammarMatcher matcher(*g, vocabulary);
  return matcher.acceptText(text).ok() && matcher.canEnd();
}

std::string errorOf(const std::string &schema) {
  absl::StatusOr<std::string> gbnf = jsonSchemaToGbnf(schema);
  return gbnf.ok() ? "ok" : std::string(gbnf.status().message());
}

TEST(JsonSchemaGrammar, ObjectsKeepDeclaredOrderAndRequired) {
  std::string schema = R"({"type": "object", "properties": {
      "name": {"type": "string"}, "age": {"type": "integer"},
      "tags": {"type": "array", "items": {"type": "string"}}},
      "required": ["name"]})";
  EXPECT_TRUE(accepts(schema, R"({"name": "Ann"})"));
  EXPECT_TRUE(accepts(schema, R"({"name": "Ann", "age": -3})"));
  EXPECT_TRUE(accepts(schema, R"({"name":"A","tags":["x", "y"]})"));
  EXPECT_TRUE(accepts(schema, "{\n  \"name\": \"A\",\n  \"age\": 0\n}"));
  EXPECT_FALSE(accepts(schema, R"({"age": 3})"));
  EXPECT_FALSE(accepts(schema, R"({"age": 3, "name": "A"})"));
  EXPECT_FALSE(accepts(schema, R"({"name": "A", "other": 1})"));
  EXPECT_FALSE(accepts(schema, R"({"name": "A",})"));
  EXPECT_FALSE(accepts(schema, R"({"name": "A", "age": 01})"));
  // All optional: the empty object, any subset in order.
  std::string optional = R"({"properties": {"a": {"type": "null"},
                                             "b": {"type": "boolean"}}})";
  EXPECT_TRUE(accepts(optional, "{}"));
  EXPECT_TRUE(accepts(optional, R"({"b": true})"));
  EXPECT_TRUE(accepts(optional, R"({"a": null, "b": false})"));
  EXPECT_FALSE(accepts(optional, R"({"b": true, "a": null})"));
}

TEST(JsonSchemaGrammar, StringsEscapesEnumsAndPatterns) {
  EXPECT_TRUE(accepts(R"({"type": "string"})", R"("a\"b\\c\n\u00e9é")"));
  EXPECT_FALSE(accepts(R"({"type": "string"})", "\"a\nb\""));
  EXPECT_TRUE(accepts(R"({"enum": ["red", 2, null]})", "null"));
  EXPECT_TRUE(accepts(R"({"enum": ["red", 2, null]})", R"("red")"));
  EXPECT_FALSE(accepts(R"({"enum": ["red", 2, null]})", R"("blue")"));
  EXPECT_TRUE(accepts(R"({"const": {"k": [1]}})", R"({"k":[1]})"));
  std::string pattern = R"({"type": "string", "pattern": "^[A-Z]{2}-\\d+$"})";
  EXPECT_TRUE(accepts(pattern, R"("AB-12")"));
  EXPECT_FALSE(accepts(pattern, R"("AB-")"));
  EXPECT_FALSE(accepts(pattern, R"("ab-1")"));
  // Unanchored: text around the match.
  EXPECT_TRUE(accepts(R"({"type": "string", "pattern": "b+"})", R"("abbc")"));
  EXPECT_TRUE(accepts(R"({"type": "string", "minLength": 2, "maxLength": 3})",
                      R"("abc")"));
  EXPECT_FALSE(accepts(R"({"type": "string", "maxLength": 3})", R"("abcd")"));
}

TEST(JsonSchemaGrammar, NumbersArraysUnionsAndRefs) {
  EXPECT_TRUE(accepts(R"({"type": "number"})", "-1.5e3"));
  EXPECT_FALSE(accepts(R"({"type": "number"})", "1."));
  EXPECT_TRUE(accepts(R"({"type": "integer", "minimum": 0})", "42"));
  EXPECT_FALSE(accepts(R"({"type": "integer", "minimum": 0})", "-1"));
  std::string range = R"({"type": "integer", "minimum": -2, "maximum": 12})";
  EXPECT_TRUE(accepts(range, "12"));
  EXPECT_TRUE(accepts(range, "-2"));
  EXPECT_FALSE(accepts(range, "13"));
  std::string bounded = R"({"type": "array", "items": {"type": "boolean"},
                            "minItems": 1, "maxItems": 2})";
  EXPECT_FALSE(accepts(bounded, "[]"));
  EXPECT_TRUE(accepts(bounded, "[true]"));
  EXPECT_TRUE(accepts(bounded, "[true, false]"));
  EXPECT_FALSE(accepts(bounded, "[true, false, true]"));
  EXPECT_TRUE(accepts(R"({"type": "array", "minItems": 2})", R"([1, "a", {}])"));
  EXPECT_FALSE(accepts(R"({"type": "array", "minItems": 2})", "[1]"));
  std::string any = R"({"anyOf": [{"type": "integer"}, {"type": "null"}]})";
  EXPECT_TRUE(accepts(any, "7"));
  EXPECT_TRUE(accepts(any, "null"));
  EXPECT_FALSE(accepts(any, "true"));
  std::string tree = R"({"$defs": {"node": {"type": "object",
      "properties": {"kids": {"type": "array", "items": {"$ref": "#/$defs/node"}}},
      "required": ["kids"]}}, "$ref": "#/$defs/node"})";
  EXPECT_TRUE(accepts(tree, R"({"kids": [{"kids": []}, {"kids": [{"kids": []}]}]})"));
  EXPECT_FALSE(accepts(tree, R"({"kids": [{}]})"));
  EXPECT_TRUE(accepts(R"({})", R"([{"x": [1, 2.5, "s", null]}])"));
}

TEST(JsonSchemaGrammar, UnsupportedOrBadSchemasAreErrors) {
  EXPECT_EQ(errorOf("{"), "JSON schema: not valid JSON");
  EXPECT_EQ(errorOf(R"({"type": "string", "contentEncoding": "base64"})"),
            "JSON schema /: keyword 'contentEncoding' is not supported by "
            "fmc's constrained decoding");
  EXPECT_EQ(errorOf(R"({"properties": {"x": {"type": "integer",
                        "multipleOf": 3}}})"),
            "JSON schema /properties/x: keyword 'multipleOf' is not supported "
            "by fmc's constrained decoding");
  EXPECT_EQ(errorOf(R"({"type": "decimal"})"),
            "JSON schema /: unknown type 'decimal'");
  EXPECT_EQ(errorOf(R"({"$ref": "#/$defs/missing"})"),
            "JSON schema /: $ref '#/$defs/missing' points nowhere");
  EXPECT_EQ(errorOf(R"({"required": ["a"], "properties": {}})"),
            "JSON schema /: required property 'a' is not in properties");
  EXPECT_EQ(errorOf(R"({"type": "integer", "minimum": 5})"),
            "JSON schema /: integer bounds are supported as minimum and "
            "maximum at most 1000 apart, or a minimum of 0 or 1");
  EXPECT_EQ(errorOf(R"j({"type": "string", "pattern": "(?=a)"})j"),
            "JSON schema /pattern: pattern '(?=a)' at 1: lookaround and "
            "named groups are not supported");
}

} // namespace
} // namespace fmc::grammar
