//===- JsonSchemaGrammar.cpp - JSON Schema to a GBNF grammar --------------===//

#include "runtime/grammar/JsonSchemaGrammar.h"

#include "runtime/grammar/Utf8.h"

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

#include <nlohmann/json.hpp>

#include <cctype>
#include <cmath>
#include <cstdio>
#include <functional>
#include <vector>

namespace fmc::grammar {

namespace {

// ordered_json: properties keep the order the schema declares them in.
using Json = nlohmann::ordered_json;

/// The primitive rules, added to a grammar when first used.
const std::pair<const char *, const char *> kPrimitives[] = {
    {"ws", R"(| " " | "\n" [ \t]{0,20})"},
    {"char", R"([^"\\\x7F\x00-\x1F] | "\\" (["\\/bfnrt] | "u" [0-9a-fA-F]{4}))"},
    {"string", R"("\"" char* "\"")"},
    {"int-digits", R"("0" | [1-9] [0-9]{0,15})"},
    {"integer", R"("-"? int-digits)"},
    {"number",
     R"("-"? int-digits ("." [0-9]{1,16})? ([eE] [-+]? [0-9]{1,3})?)"},
    {"boolean", R"("true" | "false")"},
    {"null", R"("null")"},
    {"value", R"(object | array | string | number | boolean | null)"},
    {"member", R"(string ws ":" ws value)"},
    {"object", R"("{" ws (member (ws "," ws member)* ws)? "}")"},
    {"array", R"("[" ws (value (ws "," ws value)* ws)? "]")"},
};

/// Which primitives each primitive uses.
const std::pair<const char *, std::vector<const char *>> kUses[] = {
    {"string", {"char"}},
    {"integer", {"int-digits"}},
    {"number", {"int-digits"}},
    {"value", {"object", "array", "string", "number", "boolean", "null"}},
    {"member", {"string", "ws", "value"}},
    {"object", {"ws", "member"}},
    {"array", {"ws", "value"}},
};

/// `text` as a GBNF string literal.
std::string literal(absl::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7F) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02X", u);
      out += hex;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

/// A code point inside a GBNF character class.
std::string classChar(uint32_t cp) {
  if (cp == ']' || cp == '\\' || cp == '^' || cp == '-' || cp == '"')
    return absl::StrCat("\\", std::string(1, static_cast<char>(cp)));
  if (cp < 0x20 || cp == 0x7F) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "\\x%02X", cp);
    return hex;
  }
  if (cp < 0x80)
    return std::string(1, static_cast<char>(cp));
  char hex[16];
  std::snprintf(hex, sizeof hex, cp <= 0xFFFF ? "\\u%04X" : "\\U%08X", cp);
  return hex;
}

class SchemaConverter {
public:
  explicit SchemaConverter(const Json &root) : root(root) {}

  absl::StatusOr<std::string> convert();

private:
  absl::Status error(const std::string &path, absl::string_view what) const {
    return absl::InvalidArgumentError(
        absl::StrCat("JSON schema ", path.empty() ? "/" : path, ": ", what));
  }
  std::string use(const char *primitive);
  std::string rule(absl::string_view hint, std::string body);
  absl::StatusOr<std::string> visit(const Json &schema, const std::string &path,
                                    const std::string &hint);
  absl::StatusOr<std::string> object(const Json &schema,
                                     const std::string &path,
                                     const std::string &hint);
  absl::StatusOr<std::string> array(const Json &schema, const std::string &path,
                                    const std::string &hint);
  absl::StatusOr<std::string> string(const Json &schema,
                                     const std::string &path,
                                     const std::string &hint);
  absl::StatusOr<std::string> integer(const Json &schema,
                                      const std::string &path);
  absl::StatusOr<std::string> number(const Json &schema,
                                     const std::string &path);
  absl::StatusOr<std::string> pattern(absl::string_view regex,
                                      const std::string &path);
  /// The count `key` of `schema` (minItems, maxLength, ...): 0 to 4096, or
  /// `fallback` when absent.
  absl::StatusOr<int64_t> count(const Json &schema, const char *key,
                                int64_t fallback, const std::string &path);
  absl::StatusOr<const Json *> resolve(const std::string &ref,
                                       const std::string &path);

  const Json &root;
  /// Rules in the order made: name, body.
  std::vector<std::pair<std::string, std::string>> rules;
  absl::flat_hash_map<std::string, std::string> byBody;
  absl::flat_hash_set<std::string> names;
  absl::flat_hash_set<std::string> primitives;
  /// $ref targets: their rule names, made before their bodies (recursion).
  absl::flat_hash_map<std::string, std::string> refs;
};

std::string SchemaConverter::use(const char *primitive) {
  if (primitives.insert(primitive).second) {
    for (const auto &[name, uses] : kUses)
      if (absl::string_view(name) == primitive)
        for (const char *u : uses)
          use(u);
  }
  return primitive;
}

std::string SchemaConverter::rule(absl::string_view hint, std::string body) {
  if (auto it = byBody.find(body); it != byBody.end())
    return it->second;
  std::string base;
  for (char c : hint)
    base += (std::isalnum(static_cast<unsigned char>(c)) || c == '-')
                ? c
                : '-';
  if (base.empty())
    base = "schema";
  std::string name = base;
  for (int n = 2; names.contains(name) || primitives.contains(name) ||
                  name == "root";
       ++n)
    name = absl::StrCat(base, "-", n);
  names.insert(name);
  byBody.emplace(body, name);
  rules.emplace_back(name, std::move(body));
  return name;
}

absl::StatusOr<const Json *>
SchemaConverter::resolve(const std::string &ref, const std::string &path) {
  if (ref.rfind("#/", 0) != 0 && ref != "#")
    return error(path, absl::StrCat("$ref '", ref,
                                    "' is not local (#/$defs/... or "
                                    "#/definitions/...)"));
  const Json *at = &root;
  if (ref == "#")
    return at;
  for (absl::string_view part : absl::StrSplit(ref.substr(2), '/')) {
    std::string key(part);
    // JSON Pointer escapes.
    for (size_t i; (i = key.find("~1")) != std::string::npos;)
      key.replace(i, 2, "/");
    for (size_t i; (i = key.find("~0")) != std::string::npos;)
      key.replace(i, 2, "~");
    if (!at->is_object() || !at->contains(key))
      return error(path, absl::StrCat("$ref '", ref, "' points nowhere"));
    at = &(*at)[key];
  }
  return at;
}

absl::StatusOr<std::string> SchemaConverter::visit(const Json &schema,
                                                   const std::string &path,
                                                   const std::string &hint) {
  if (schema.is_boolean()) {
    if (!schema.get<bool>())
      return error(path, "the schema `false` allows nothing");
    return use("value");
  }
  if (!schema.is_object())
    return error(path, "a schema must be an object or a boolean");

  static const absl::flat_hash_set<std::string> kAnnotations = {
      "title",    "description", "default",  "examples", "$schema",
      "$id",      "$comment",    "readOnly", "writeOnly", "deprecated",
      "$defs",    "definitions", "format"};
  static const absl::flat_hash_set<std::string> kKnown = {
      "type",      "properties", "required",  "additionalProperties",
      "items",     "prefixItems", "minItems", "maxItems",
      "enum",      "const",      "pattern",   "minLength",
      "maxLength", "minimum",    "maximum",   "exclusiveMinimum",
      "anyOf",     "oneOf",      "allOf",     "$ref"};
  for (const auto &[key, value] : schema.items())
    if (!kAnnotations.contains(key) && !kKnown.contains(key))
      return error(path, absl::StrCat("keyword '", key,
                                      "' is not supported by fmc's "
                                      "constrained decoding"));

  if (schema.contains("$ref")) {
    if (!schema["$ref"].is_string())
      return error(path, "$ref must be a string");
    std::string ref = schema["$ref"].get<std::string>();
    if (auto it = refs.find(ref); it != refs.end())
      return it->second;
    absl::StatusOr<const Json *> target = resolve(ref, path);
    if (!target.ok())
      return target.status();
    // Name the rule first: the definition may refer to itself.
    std::string name = ref.substr(ref.rfind('/') + 1);
    std::string base = name.empty() ? "ref" : name;
    std::string unique = base;
    for (int n = 2; names.contains(unique) || primitives.contains(unique) ||
                    unique == "root";
         ++n)
      unique = absl::StrCat(base, "-", n);
    names.insert(unique);
    refs.emplace(ref, unique);
    size_t slot = rules.size();
    rules.emplace_back(unique, "");
    absl::StatusOr<std::string> body = visit(**target, ref.substr(1), unique);
    if (!body.ok())
      return body.status();
    rules[slot].second = *body;
    return unique;
  }
  if (schema.contains("const"))
    return literal(schema["const"].dump(-1, ' ', false));
  if (schema.contains("enum")) {
    if (!schema["enum"].is_array() || schema["enum"].empty())
      return error(path, "enum must be a non-empty array");
    std::vector<std::string> alts;
    for (const Json &v : schema["enum"])
      alts.push_back(literal(v.dump(-1, ' ', false)));
    return rule(hint, absl::StrJoin(alts, " | "));
  }
  for (const char *key : {"anyOf", "oneOf"})
    if (schema.contains(key)) {
      if (!schema[key].is_array() || schema[key].empty())
        return error(path, absl::StrCat(key, " must be a non-empty array"));
      std::vector<std::string> alts;
      for (size_t i = 0; i < schema[key].size(); ++i) {
        absl::StatusOr<std::string> alt =
            visit(schema[key][i], absl::StrCat(path, "/", key, "/", i),
                  absl::StrCat(hint, "-", i));
        if (!alt.ok())
          return alt.status();
        alts.push_back(*alt);
      }
      return rule(hint, absl::StrJoin(alts, " | "));
    }
  if (schema.contains("allOf")) {
    if (!schema["allOf"].is_array() || schema["allOf"].size() != 1)
      return error(path, "allOf is supported with exactly one schema");
    return visit(schema["allOf"][0], path + "/allOf/0", hint);
  }

  std::vector<std::string> types;
  if (schema.contains("type")) {
    const Json &t = schema["type"];
    if (t.is_string())
      types.push_back(t.get<std::string>());
    else if (t.is_array())
      for (const Json &each : t) {
        if (!each.is_string())
          return error(path, "type must be a string or a list of strings");
        types.push_back(each.get<std::string>());
      }
    else
      return error(path, "type must be a string or a list of strings");
  } else if (schema.contains("properties") ||
             schema.contains("additionalProperties")) {
    types.push_back("object");
  } else if (schema.contains("items") || schema.contains("prefixItems")) {
    types.push_back("array");
  } else if (schema.contains("pattern") || schema.contains("minLength") ||
             schema.contains("maxLength")) {
    types.push_back("string");
  } else {
    return use("value");
  }
  std::vector<std::string> alts;
  for (const std::string &type : types) {
    absl::StatusOr<std::string> alt;
    if (type == "object")
      alt = object(schema, path, hint);
    else if (type == "array")
      alt = array(schema, path, hint);
    else if (type == "string")
      alt = string(schema, path, hint);
    else if (type == "integer")
      alt = integer(schema, path);
    else if (type == "number")
      alt = number(schema, path);
    else if (type == "boolean")
      alt = use("boolean");
    else if (type == "null")
      alt = use("null");
    else
      return error(path, absl::StrCat("unknown type '", type, "'"));
    if (!alt.ok())
      return alt.status();
    alts.push_back(*alt);
  }
  if (alts.size() == 1)
    return alts[0];
  return rule(hint, absl::StrJoin(alts, " | "));
}

absl::StatusOr<std::string> SchemaConverter::object(const Json &schema,
                                                    const std::string &path,
                                                    const std::string &hint) {
  absl::flat_hash_set<std::string> required;
  if (schema.contains("required")) {
    if (!schema["required"].is_array())
      return error(path, "required must be an array of names");
    for (const Json &name : schema["required"]) {
      if (!name.is_string())
        return error(path, "required must be an array of names");
      required.insert(name.get<std::string>());
    }
  }
  // Members in declared order: (text of the member, required).
  std::vector<std::pair<std::string, bool>> members;
  if (schema.contains("properties")) {
    const Json &properties = schema["properties"];
    if (!properties.is_object())
      return error(path, "properties must be an object");
    for (const auto &[name, sub] : properties.items()) {
      std::string subPath = absl::StrCat(path, "/properties/", name);
      absl::StatusOr<std::string> value =
          visit(sub, subPath, absl::StrCat(hint, "-", name));
      if (!value.ok())
        return value.status();
      members.emplace_back(
          absl::StrCat(literal(Json(name).dump(-1, ' ', false)),
                       " ws \":\" ws ", *value),
          required.contains(name));
      required.erase(name);
    }
  }
  if (!required.empty())
    return error(path, absl::StrCat("required property '", *required.begin(),
                                    "' is not in properties"));
  // Extra members: additionalProperties true or a schema (absent: none).
  std::string extra;
  if (schema.contains("additionalProperties")) {
    const Json &more = schema["additionalProperties"];
    if (!(more.is_boolean() && !more.get<bool>())) {
      absl::StatusOr<std::string> value =
          visit(more, path + "/additionalProperties", hint + "-additional");
      if (!value.ok())
        return value.status();
      extra = rule(hint + "-additional-kv",
                   absl::StrCat(use("string"), " ws \":\" ws ", *value));
    }
  }
  use("ws");
  // first_i: members i.. with none written yet; rest_i: after one was.
  int n = static_cast<int>(members.size());
  std::vector<std::string> first(n + 1), rest(n + 1);
  rest[n] = extra.empty()
                ? ""
                : rule(hint + "-more",
                       absl::StrCat("(ws \",\" ws ", extra, ")*"));
  first[n] = extra.empty()
                 ? ""
                 : rule(hint + "-extra",
                        absl::StrCat("(", extra, " (ws \",\" ws ", extra,
                                     ")*)?"));
  for (int i = n - 1; i >= 0; --i) {
    auto [member, isRequired] = members[i];
    std::string after = rest[i + 1];
    std::string withComma =
        absl::StrCat("ws \",\" ws ", member, after.empty() ? "" : " ", after);
    // rest_0 would follow nothing: never used.
    if (i > 0)
      rest[i] = rule(absl::StrCat(hint, "-after-", i),
                     isRequired ? withComma
                                : absl::StrCat("(", withComma, ")",
                                               after.empty() ? "?" : " | ",
                                               after));
    std::string written = absl::StrCat(member, rest[i + 1].empty() ? "" : " ",
                                       rest[i + 1]);
    // first_i is reached only past optional members (or as the start).
    bool reached = true;
    for (int j = 0; j < i; ++j)
      reached &= !members[j].second;
    if (reached)
      first[i] = rule(absl::StrCat(hint, "-from-", i),
                      isRequired || first[i + 1].empty()
                          ? (isRequired ? written
                                        : absl::StrCat("(", written, ")?"))
                          : absl::StrCat(written, " | ", first[i + 1]));
  }
  return rule(hint, absl::StrCat("\"{\" ws ",
                                 first[0].empty() ? "" : first[0] + " ws ",
                                 "\"}\""));
}

absl::StatusOr<int64_t> SchemaConverter::count(const Json &schema,
                                               const char *key,
                                               int64_t fallback,
                                               const std::string &path) {
  if (!schema.contains(key))
    return fallback;
  if (!schema[key].is_number_integer() || schema[key].get<int64_t>() < 0 ||
      schema[key].get<int64_t>() > 4096)
    return error(path, absl::StrCat(key, " must be an integer from 0 to 4096"));
  return schema[key].get<int64_t>();
}

absl::StatusOr<std::string> SchemaConverter::array(const Json &schema,
                                                   const std::string &path,
                                                   const std::string &hint) {
  absl::StatusOr<int64_t> min = count(schema, "minItems", 0, path);
  if (!min.ok())
    return min.status();
  absl::StatusOr<int64_t> max = count(schema, "maxItems", -1, path);
  if (!max.ok())
    return max.status();
  if (*max >= 0 && *max < *min)
    return error(path, "maxItems is below minItems");
  std::vector<std::string> prefix;
  if (schema.contains("prefixItems")) {
    if (!schema["prefixItems"].is_array())
      return error(path, "prefixItems must be an array of schemas");
    for (size_t i = 0; i < schema["prefixItems"].size(); ++i) {
      absl::StatusOr<std::string> item =
          visit(schema["prefixItems"][i],
                absl::StrCat(path, "/prefixItems/", i),
                absl::StrCat(hint, "-", i));
      if (!item.ok())
        return item.status();
      prefix.push_back(*item);
    }
  }
  std::string item;
  bool moreAllowed = true;
  if (schema.contains("items")) {
    if (schema["items"].is_boolean() && !schema["items"].get<bool>()) {
      moreAllowed = false;
    } else {
      absl::StatusOr<std::string> each =
          visit(schema["items"], path + "/items", hint + "-item");
      if (!each.ok())
        return each.status();
      item = *each;
    }
  } else {
    item = use("value");
  }
  use("ws");
  // Items 0..: prefix items first (each optional past minItems), then the
  // `items` schema, counted to the bounds.
  int64_t fixed = static_cast<int64_t>(prefix.size());
  std::vector<std::string> seq = prefix;
  int64_t upper = *max;
  if (!moreAllowed)
    upper = upper < 0 ? fixed : std::min(upper, fixed);
  if (*min > fixed && !moreAllowed)
    return error(path, "minItems exceeds prefixItems with items: false");
  // Build from the back: tail_k is what may follow k items already written.
  int64_t total = upper < 0 ? std::max(*min, fixed) : upper;
  if (total > 64 && upper >= 0)
    return error(path, "maxItems above 64 with bounds is not supported");
  std::function<std::string(int64_t)> tail = [&](int64_t k) -> std::string {
    std::string sep = k == 0 ? "" : "ws \",\" ws ";
    if (k >= total) {
      if (upper >= 0)
        return "";
      // Unbounded: any number more of `items`.
      return absl::StrCat("(ws \",\" ws ", item, ")*");
    }
    std::string element = k < fixed ? seq[k] : item;
    std::string next = tail(k + 1);
    std::string body = absl::StrCat(sep, element, next.empty() ? "" : " ", next);
    if (k >= *min) {
      if (upper < 0 && k >= fixed && k == total - 1 && k >= *min)
        body = absl::StrCat(sep, element, " ", next);
      return rule(absl::StrCat(hint, "-items-", k),
                  absl::StrCat("(", body, ")?"));
    }
    return rule(absl::StrCat(hint, "-items-", k), body);
  };
  std::string items = total == 0 && upper < 0
                          ? rule(hint + "-items",
                                 absl::StrCat("(", item, " (ws \",\" ws ",
                                              item, ")*)?"))
                          : tail(0);
  return rule(hint, absl::StrCat("\"[\" ws ", items.empty() ? "" : items + " ws ",
                                 "\"]\""));
}

absl::StatusOr<std::string> SchemaConverter::string(const Json &schema,
                                                    const std::string &path,
                                                    const std::string &hint) {
  if (schema.contains("pattern")) {
    if (schema.contains("minLength") || schema.contains("maxLength"))
      return error(path, "pattern with minLength/maxLength is not supported");
    if (!schema["pattern"].is_string())
      return error(path, "pattern must be a string");
    absl::StatusOr<std::string> body =
        pattern(schema["pattern"].get<std::string>(), path + "/pattern");
    if (!body.ok())
      return body.status();
    return rule(hint, absl::StrCat("\"\\\"\" ", *body, " \"\\\"\""));
  }
  if (schema.contains("format") && schema["format"].is_string()) {
    std::string format = schema["format"].get<std::string>();
    if (format == "date")
      return rule(hint, R"("\"" [0-9]{4} "-" ("0" [1-9] | "1" [0-2]) "-" ("0" [1-9] | [12] [0-9] | "3" [01]) "\"")");
    if (format == "uuid")
      return rule(hint, R"("\"" [0-9a-f]{8} "-" [0-9a-f]{4} "-" [0-9a-f]{4} "-" [0-9a-f]{4} "-" [0-9a-f]{12} "\"")");
  }
  if (!schema.contains("minLength") && !schema.contains("maxLength"))
    return use("string");
  absl::StatusOr<int64_t> min = count(schema, "minLength", 0, path);
  if (!min.ok())
    return min.status();
  absl::StatusOr<int64_t> max = count(schema, "maxLength", -1, path);
  if (!max.ok())
    return max.status();
  if (*max >= 0 && *max < *min)
    return error(path, "maxLength is below minLength");
  use("char");
  return rule(hint, absl::StrCat("\"\\\"\" char{", *min, ",",
                                 *max >= 0 ? absl::StrCat(*max) : "", "} \"\\\"\""));
}

absl::StatusOr<std::string> SchemaConverter::integer(const Json &schema,
                                                     const std::string &path) {
  bool hasMin = schema.contains("minimum") ||
                schema.contains("exclusiveMinimum");
  bool hasMax = schema.contains("maximum");
  if (!hasMin && !hasMax)
    return use("integer");
  auto bound = [&](const char *key, int64_t &out) -> absl::Status {
    const Json &v = schema[key];
    if (!v.is_number())
      return error(path, absl::StrCat(key, " must be a number"));
    double d = v.get<double>();
    if (d < -1e15 || d > 1e15)
      return error(path, absl::StrCat(key, " is out of range"));
    out = static_cast<int64_t>(std::ceil(d));
    if (absl::string_view(key) == "maximum")
      out = static_cast<int64_t>(std::floor(d));
    if (absl::string_view(key) == "exclusiveMinimum")
      out = static_cast<int64_t>(std::floor(d)) + 1;
    return absl::OkStatus();
  };
  int64_t lo = 0, hi = 0;
  if (schema.contains("minimum"))
    if (absl::Status s = bound("minimum", lo); !s.ok())
      return s;
  if (schema.contains("exclusiveMinimum"))
    if (absl::Status s = bound("exclusiveMinimum", lo); !s.ok())
      return s;
  if (hasMax)
    if (absl::Status s = bound("maximum", hi); !s.ok())
      return s;
  if (hasMin && hasMax) {
    if (hi < lo)
      return error(path, "maximum is below minimum");
    if (hi - lo > 1000)
      return error(path, "integer bounds spanning more than 1000 values are "
                         "supported only as minimum 0 or 1 without maximum");
    std::vector<std::string> alts;
    for (int64_t v = lo; v <= hi; ++v)
      alts.push_back(absl::StrCat("\"", v, "\""));
    return rule(absl::StrCat("int-", lo, "-to-", hi), absl::StrJoin(alts, " | "));
  }
  if (hasMin && !hasMax && (lo == 0 || lo == 1)) {
    use("int-digits");
    return lo == 0 ? std::string("int-digits")
                   : rule("positive-integer", "[1-9] [0-9]{0,15}");
  }
  return error(path, "integer bounds are supported as minimum and maximum "
                     "at most 1000 apart, or a minimum of 0 or 1");
}

absl::StatusOr<std::string> SchemaConverter::number(const Json &schema,
                                                    const std::string &path) {
  if (schema.contains("maximum") || schema.contains("exclusiveMinimum"))
    return error(path, "number bounds are supported as minimum 0 only");
  if (!schema.contains("minimum"))
    return use("number");
  if (!schema["minimum"].is_number() || schema["minimum"].get<double>() != 0)
    return error(path, "number bounds are supported as minimum 0 only");
  use("int-digits");
  return rule("non-negative-number",
              R"(int-digits ("." [0-9]{1,16})? ([eE] [-+]? [0-9]{1,3})?)");
}

/// A regular expression (the JSON Schema `pattern` subset) as GBNF over the
/// characters of a JSON string's text: a character the JSON text must
/// escape (quote, backslash, controls) is written escaped.
absl::StatusOr<std::string> SchemaConverter::pattern(absl::string_view regex,
                                                     const std::string &path) {
  size_t pos = 0;
  auto fail = [&](absl::string_view what) {
    return error(path, absl::StrCat("pattern '", regex, "' at ", pos, ": ",
                                    what));
  };
  use("char");
  // The JSON text of one code point in [lo, hi] (ranges given as a set).
  using Ranges = std::vector<std::pair<uint32_t, uint32_t>>;
  auto textOf = [&](Ranges ranges, bool negated) -> std::string {
    // Characters a JSON string escapes get their escape; the rest a class.
    std::vector<std::string> alts;
    auto covers = [&](uint32_t cp) {
      bool in = false;
      for (auto [a, b] : ranges)
        in |= a <= cp && cp <= b;
      return in != negated;
    };
    if (covers('"'))
      alts.push_back(R"("\\\"")");
    if (covers('\\'))
      alts.push_back(R"("\\\\")");
    if (covers('\n'))
      alts.push_back(R"("\\n")");
    if (covers('\t'))
      alts.push_back(R"("\\t")");
    // The rest as a class: a negated class also excludes what JSON escapes;
    // a positive one loses it (interval subtraction).
    std::string cls = negated ? "[^\"\\\\\\x00-\\x1F\\x7F" : "[";
    bool any = negated;
    static const std::pair<uint32_t, uint32_t> kEscaped[] = {
        {0x00, 0x1F}, {'"', '"'}, {'\\', '\\'}, {0x7F, 0x7F}};
    for (auto [a, b] : ranges) {
      if (negated) {
        cls += classChar(a);
        if (b > a)
          cls += "-" + classChar(b);
        continue;
      }
      uint32_t from = a;
      for (auto [x, y] : kEscaped) {
        if (y < from || x > b)
          continue;
        if (x > from) {
          cls += classChar(from);
          if (x - 1 > from)
            cls += "-" + classChar(x - 1);
          any = true;
        }
        from = y + 1;
      }
      if (from <= b) {
        cls += classChar(from);
        if (b > from)
          cls += "-" + classChar(b);
        any = true;
      }
    }
    cls += "]";
    if (any)
      alts.push_back(cls);
    if (alts.empty())
      return "";
    return alts.size() == 1 ? alts[0]
                            : absl::StrCat("(", absl::StrJoin(alts, " | "), ")");
  };
  auto escapeClass = [&](char c, Ranges &out) -> bool {
    switch (c) {
    case 'd':
      out.push_back({'0', '9'});
      return true;
    case 'w':
      out.insert(out.end(), {{'0', '9'}, {'A', 'Z'}, {'a', 'z'}, {'_', '_'}});
      return true;
    case 's':
      out.insert(out.end(), {{' ', ' '}, {'\t', '\t'}, {'\n', '\n'}, {'\r', '\r'}});
      return true;
    default:
      return false;
    }
  };
  std::function<absl::StatusOr<std::string>()> alternation;
  std::function<absl::StatusOr<std::string>()> atom = [&]() -> absl::StatusOr<std::string> {
    char c = regex[pos];
    if (c == '(') {
      ++pos;
      if (regex.substr(pos, 2) == "?:")
        pos += 2;
      else if (pos < regex.size() && regex[pos] == '?')
        return fail("lookaround and named groups are not supported");
      absl::StatusOr<std::string> inner = alternation();
      if (!inner.ok())
        return inner.status();
      if (pos >= regex.size() || regex[pos] != ')')
        return fail("expected ')'");
      ++pos;
      return absl::StrCat("(", *inner, ")");
    }
    if (c == '[') {
      ++pos;
      bool negated = pos < regex.size() && regex[pos] == '^';
      if (negated)
        ++pos;
      Ranges ranges;
      bool firstChar = true;
      while (true) {
        if (pos >= regex.size())
          return fail("unterminated character class");
        if (regex[pos] == ']' && !firstChar) {
          ++pos;
          break;
        }
        firstChar = false;
        uint32_t lo;
        if (regex[pos] == '\\' && pos + 1 < regex.size()) {
          if (escapeClass(regex[pos + 1], ranges)) {
            pos += 2;
            continue;
          }
          char e = regex[pos + 1];
          lo = e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r'
                                                            : uint32_t(uint8_t(e));
          pos += 2;
        } else {
          size_t length = decodeUtf8(regex.substr(pos), lo);
          if (length == 0)
            return fail("invalid UTF-8");
          pos += length;
        }
        uint32_t hi = lo;
        if (pos + 1 < regex.size() && regex[pos] == '-' && regex[pos + 1] != ']') {
          ++pos;
          size_t length = decodeUtf8(regex.substr(pos), hi);
          if (length == 0 || hi < lo)
            return fail("bad range in character class");
          pos += length;
        }
        ranges.push_back({lo, hi});
      }
      std::string text = textOf(ranges, negated);
      if (text.empty())
        return fail("character class matches nothing");
      return text;
    }
    if (c == '.') {
      ++pos;
      return textOf({{'\n', '\n'}}, true);
    }
    if (c == '\\') {
      if (pos + 1 >= regex.size())
        return fail("trailing backslash");
      Ranges ranges;
      char e = regex[pos + 1];
      pos += 2;
      if (escapeClass(e, ranges))
        return textOf(ranges, false);
      if (e == 'D' || e == 'W' || e == 'S') {
        escapeClass(static_cast<char>(e - 'A' + 'a'), ranges);
        return textOf(ranges, true);
      }
      if (std::isalnum(static_cast<unsigned char>(e)) && e != 'n' && e != 't' &&
          e != 'r')
        return fail(absl::StrCat("escape \\", std::string(1, e),
                                 " is not supported"));
      uint32_t cp = e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r'
                                                                 : uint32_t(uint8_t(e));
      return textOf({{cp, cp}}, false);
    }
    if (c == '*' || c == '+' || c == '?' || c == '{' || c == ')' || c == '|')
      return fail(absl::StrCat("unexpected '", std::string(1, c), "'"));
    uint32_t cp;
    size_t length = decodeUtf8(regex.substr(pos), cp);
    if (length == 0)
      return fail("invalid UTF-8");
    pos += length;
    return textOf({{cp, cp}}, false);
  };
  auto sequence = [&]() -> absl::StatusOr<std::string> {
    std::vector<std::string> items;
    while (pos < regex.size() && regex[pos] != '|' && regex[pos] != ')') {
      if (regex[pos] == '^' || regex[pos] == '$')
        return fail("anchors are supported only at the start and the end");
      absl::StatusOr<std::string> a = atom();
      if (!a.ok())
        return a.status();
      std::string item = *a;
      if (pos < regex.size() &&
          (regex[pos] == '*' || regex[pos] == '+' || regex[pos] == '?')) {
        item = absl::StrCat("(", item, ")", std::string(1, regex[pos]));
        ++pos;
      } else if (pos < regex.size() && regex[pos] == '{') {
        size_t close = regex.find('}', pos);
        if (close == absl::string_view::npos)
          return fail("unterminated {m,n}");
        item = absl::StrCat("(", item, ")", regex.substr(pos, close - pos + 1));
        pos = close + 1;
      }
      if (pos < regex.size() && regex[pos] == '?')
        ++pos; // lazy: the same language
      items.push_back(item);
    }
    return items.empty() ? std::string("\"\"") : absl::StrJoin(items, " ");
  };
  alternation = [&]() -> absl::StatusOr<std::string> {
    std::vector<std::string> alts;
    while (true) {
      absl::StatusOr<std::string> s = sequence();
      if (!s.ok())
        return s.status();
      alts.push_back(*s);
      if (pos < regex.size() && regex[pos] == '|') {
        ++pos;
        continue;
      }
      return alts.size() == 1 ? alts[0] : absl::StrJoin(alts, " | ");
    }
  };
  bool anchoredStart = !regex.empty() && regex.front() == '^';
  bool anchoredEnd = regex.size() > 1 && regex.back() == '$' &&
                     regex[regex.size() - 2] != '\\';
  absl::string_view whole = regex;
  regex = whole.substr(anchoredStart ? 1 : 0,
                       whole.size() - (anchoredStart ? 1 : 0) -
                           (anchoredEnd ? 1 : 0));
  absl::StatusOr<std::string> body = alternation();
  regex = whole;
  if (!body.ok())
    return body.status();
  if (pos + (anchoredStart ? 1 : 0) + (anchoredEnd ? 1 : 0) != whole.size())
    return fail("unbalanced ')'");
  // JSON Schema patterns are unanchored: text may surround the match.
  return absl::StrCat(anchoredStart ? "" : "char* ", "(", *body, ")",
                      anchoredEnd ? "" : " char*");
}

absl::StatusOr<std::string> SchemaConverter::convert() {
  absl::StatusOr<std::string> top = visit(root, "", "root-value");
  if (!top.ok())
    return top.status();
  std::string out = absl::StrCat("root ::= ", *top, "\n");
  for (const auto &[name, body] : rules)
    absl::StrAppend(&out, name, " ::= ", body, "\n");
  for (const auto &[name, body] : kPrimitives)
    if (primitives.contains(name))
      absl::StrAppend(&out, name, " ::= ", body, "\n");
  return out;
}

} // namespace

absl::StatusOr<std::string> jsonSchemaToGbnf(absl::string_view schemaText) {
  Json schema = Json::parse(schemaText, nullptr, /*allow_exceptions=*/false);
  if (schema.is_discarded())
    return absl::InvalidArgumentError("JSON schema: not valid JSON");
  return SchemaConverter(schema).convert();
}

std::string anyJsonObjectGbnf() {
  return *jsonSchemaToGbnf(R"({"type": "object", "additionalProperties": true})");
}

} // namespace fmc::grammar
