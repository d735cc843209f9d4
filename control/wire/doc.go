// Package wire is the control API's wire layer, driven by AWS's own API
// model of Amazon IVS Real-Time (ivs-realtime 2020-07-14, rest-json),
// embedded from botocore and interpreted at startup. Nothing here is
// written per operation: routes, member bindings, types and constraints all
// come from the model, so the AWS SDKs and CLI see the shapes, names, enum
// values, limits and error types that AWS documents.
//
// # Contract
//
//   - Load / MustModel parse the embedded model: operations (method,
//     requestUri with {label} and {label+}, input, output, errors) and
//     shapes (structure members with their locations, required members,
//     list, map, string, integer, long, float, double, boolean, timestamp,
//     blob; min, max, enum, pattern). Load fails on anything it cannot
//     honour, including a pattern it cannot translate to RE2, so a model
//     that loads is enforced completely.
//   - Document returns the model Load parses (IVS's with Tessera's
//     extension operations merged in) as one botocore service-2.json, for
//     clients such as the AWS CLI (`aws configure add-model`).
//   - (*Model).Route maps a method and escaped path to an operation and its
//     unescaped path labels.
//   - (*Model).DecodeInput (and DecodeRequest, which reads an
//     *http.Request) parses and validates an operation's input and returns
//     it as map[string]any keyed by member name, or an *Error: a
//     SerializationException (400) for a body that is not a JSON object or
//     a member of the wrong JSON type, a ValidationException (400) for a
//     body that is JSON null or listing every broken constraint. Unknown
//     members are ignored, as AWS does.
//     Defaults the model states only in prose are not applied: handlers do.
//     (*Model).ValidateOutput checks a handler's response body against the
//     output shape (for tests).
//   - WriteError writes an *Error as the rest-json error the SDKs parse into
//     their typed errors (types.ValidationException, ...): the model's HTTP
//     status, X-Amzn-Errortype, and a JSON body with message and
//     exceptionMessage. Throttling is the ThrottlingException (429, "Rate
//     exceeded") AWS answers a caller over its request rate; the model does
//     not declare it, the SDKs know it. WriteJSON writes a success body.
//
// # Validation messages
//
// Messages follow AWS's (Coral's) validation format:
//
//	1 validation error detected: Value 'my stage' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9-_]*
//	2 validation errors detected: Value null at 'stageArn' failed to satisfy constraint: Member must not be null; Value '0' at 'video.width' failed to satisfy constraint: Member must have value greater than or equal to 2
//
// One failure is "Value '<value>' at '<path>' failed to satisfy constraint:
// <constraint>" ("Value null at" for a missing required member, "Value at"
// for a sensitive one); failures are joined with "; " after "N validation
// error(s) detected: ". Constraints read:
//
//	Member must not be null
//	Member must satisfy enum value set: [A, B]          (model order)
//	Member must satisfy regular expression pattern: P   (the model's text)
//	Member must have length less than or equal to N     (characters, entries)
//	Member must have length greater than or equal to N
//	Member must have value less than or equal to N      (N as 60.0 for float shapes)
//	Member must have value greater than or equal to N
//
// Paths are member names (first letter lower-cased, as Coral writes them)
// joined with dots, list elements of structure, list or map type as
// "<list>.<1-based index>.member" (e.g.
// destinations.1.member.s3.encoderConfigurationArns), and values of
// structure type in a map as "<map>.<key>" (no such map in this model; the
// form is a guess). Scalar list elements,
// map keys and map values are reported once for the whole list or map, with
// every constraint of the element shape in brackets, as AWS does:
//
//	Value '[a, ]' at 'tagKeys' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1]
//	Value '{=v}' at 'tags' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1]
//	... Map value must satisfy constraint: [...]
//
// Values are spelled as Java's toString would: lists [a, b], maps and
// structures {k=v, k2=v2} (map keys sorted, structure members in model
// order), floats 30.0. Failures come in model declaration order, depth
// first; for one value, enum before pattern before length before range
// (AWS reports a pattern failure before a length failure). A string's
// length counts Unicode characters (code points). Past MaxListedViolations
// failures the message lists only the first ones, after the full count.
//
// Patterns are Java regular expressions matched against the whole value
// (Java's matches()); TranslatePattern carries them to RE2. PatternOverrides
// lists the one model pattern enforced in corrected form (ResourceArn, which
// as written rejects every real ARN); its messages still quote the model.
//
// Model, Operation, Shape and Member are shared by every caller: treat them
// as read-only.
//
// The embedded model is botocore's service-2.json, Apache License 2.0; see
// model.go.
package wire
