//===- JsonSchemaGrammar.h - JSON Schema to a GBNF grammar ----------------===//
//
// Guided generation's schemas (fmc-run --json-schema, fmc-serve's
// response_format and tool parameters) become GBNF text (Grammar.h), so one
// matcher serves schemas and hand-written grammars, and `--print-grammar`
// shows what a schema allows.
//
// Supported: type (one or a list), object (properties in their declared
// order, required, additionalProperties false / true / a schema — absent
// means false here, so the model writes only the declared keys), array
// (items, prefixItems, minItems, maxItems), string (enum, const, minLength,
// maxLength, pattern: a regular-expression subset of literals, classes, `.`,
// groups, `|`, and the repetitions), integer (minimum/maximum enumerated
// when they bound at most 1000 values, or a minimum of 0 or 1), number
// (minimum 0: no sign), boolean, null, enum, const, anyOf, oneOf (as anyOf:
// the branches should not overlap), allOf of one schema, $ref to #/$defs/..
// or #/definitions/.., and `{}`/`true` for any JSON value. Everything else
// that constrains values is an error naming the keyword, never ignored:
// a schema the output might not satisfy is refused.
//
// Whitespace between tokens is at most one space or a newline and 20
// indentation characters, so a model cannot pad forever.
//
//===----------------------------------------------------------------------===//

#ifndef FMC_RUNTIME_GRAMMAR_JSONSCHEMAGRAMMAR_H
#define FMC_RUNTIME_GRAMMAR_JSONSCHEMAGRAMMAR_H

#include "absl/status/statusor.h"

#include <string>
#include "absl/strings/string_view.h"

namespace fmc::grammar {

/// The GBNF grammar of the JSON texts `schemaText` (a JSON Schema document)
/// accepts. Errors name the schema path ("/properties/age: ...").
absl::StatusOr<std::string> jsonSchemaToGbnf(absl::string_view schemaText);

/// The GBNF grammar of any JSON object ({"type": "json_object"}).
std::string anyJsonObjectGbnf();

} // namespace fmc::grammar

#endif // FMC_RUNTIME_GRAMMAR_JSONSCHEMAGRAMMAR_H
