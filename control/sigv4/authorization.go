package sigv4

import (
	"strings"
	"unicode/utf8"
)

// algorithm is the only signing algorithm accepted: SigV4 with HMAC-SHA256
// in the Authorization header (no SigV4a, no presigned query strings).
const algorithm = "AWS4-HMAC-SHA256"

// authorization is a parsed SigV4 Authorization header:
//
//	AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/ivs/aws4_request, SignedHeaders=host;x-amz-date, Signature=<hex>
type authorization struct {
	AccessKey  string
	Date       string // YYYYMMDD, not yet validated
	Region     string
	Service    string
	Terminator string // "aws4_request" when valid, checked by Verify
	// SignedHeaders is the list as sent (SignedHeaders=...), and its
	// elements. Verify compares the string with what the SDK signer
	// produces, so order and case matter there, not here.
	SignedHeaders     string
	SignedHeadersList []string
	Signature         string
}

// maxEcho bounds how much of a client's Authorization header is echoed back
// in an error message.
const maxEcho = 512

// echo returns s for quoting in an error message: at most maxEcho bytes,
// cut on a rune boundary.
func echo(s string) string {
	if len(s) <= maxEcho {
		return s
	}
	cut := maxEcho
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

func incomplete(msg string) *Error { return forbidden(TypeIncompleteSignature, msg) }

// parseAuthorization parses a SigV4 Authorization header value. It checks
// only the syntax: the algorithm, the presence of the three parameters, five
// non-empty components in the credential and non-empty signed header names.
// The scope's meaning (service, terminator, date) is left to Verify. Errors
// are IncompleteSignatureException, naming what is missing the way AWS does.
func parseAuthorization(h string) (authorization, *Error) {
	var a authorization
	h = strings.Trim(h, " \t")
	alg, rest, _ := strings.Cut(h, " ")
	if alg != algorithm {
		return a, incomplete("Unsupported Authorization Type: '" + echo(alg) + "'; only " + algorithm + " is supported. Authorization=" + echo(h))
	}
	var cred, signed, sig string
	var haveCred, haveSigned, haveSig bool
	for part := range strings.SplitSeq(rest, ",") {
		part = strings.Trim(part, " \t")
		if part == "" {
			continue
		}
		key, value, ok := strings.Cut(part, "=")
		if !ok {
			return a, incomplete("'" + echo(part) + "' not a valid key=value pair (missing equal-sign) in Authorization header: '" + echo(h) + "'.")
		}
		var dst *string
		var seen *bool
		switch key {
		case "Credential":
			dst, seen = &cred, &haveCred
		case "SignedHeaders":
			dst, seen = &signed, &haveSigned
		case "Signature":
			dst, seen = &sig, &haveSig
		default:
			continue // AWS ignores parameters it does not know
		}
		if *seen {
			return a, incomplete("Authorization header has parameter '" + key + "' more than once. Authorization=" + echo(h))
		}
		*dst, *seen = value, true
	}
	var missing strings.Builder
	for _, p := range []struct {
		name string
		ok   bool
	}{{"Credential", cred != ""}, {"Signature", sig != ""}, {"SignedHeaders", signed != ""}} {
		if !p.ok {
			missing.WriteString("Authorization header requires '" + p.name + "' parameter. ")
		}
	}
	if missing.Len() > 0 {
		return a, incomplete(missing.String() + "Authorization=" + echo(h))
	}

	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[0] == "" || parts[1] == "" || parts[2] == "" || parts[3] == "" || parts[4] == "" {
		return a, incomplete("Credential must have exactly five non-empty components: <access key id>/<YYYYMMDD>/<region>/<service>/aws4_request, got '" + echo(cred) + "'. Authorization=" + echo(h))
	}
	a.AccessKey, a.Date, a.Region, a.Service, a.Terminator = parts[0], parts[1], parts[2], parts[3], parts[4]

	a.SignedHeadersList = strings.Split(signed, ";")
	for _, name := range a.SignedHeadersList {
		if name == "" {
			return a, incomplete("SignedHeaders has an empty header name: '" + echo(signed) + "'. Authorization=" + echo(h))
		}
	}
	a.SignedHeaders = signed
	a.Signature = sig
	return a, nil
}
