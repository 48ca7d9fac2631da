package mockserver

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"reflect"
	"strings"
)

// maxBody bounds every request body; auth requests are tiny.
const maxBody = 64 << 10

// writeJSON writes v as the JSON answer.
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"error":"server_error","message":"could not encode the answer"}` + "\n")
	}
	writeRawJSON(w, status, buf.Bytes())
}

// writeRawJSON sends body, which is already JSON, as writeJSON does.
func writeRawJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(body)
}

// decodeJSON reads a JSON object into dst strictly: one object, known
// fields, right types, within maxBody. An empty body leaves dst alone and
// reports empty, so cookie-only requests work.
func decodeJSON(w http.ResponseWriter, r *http.Request, dst any) (empty bool, err error) {
	body, err := readBody(w, r)
	if err != nil || len(bytes.TrimSpace(body)) == 0 {
		return err == nil, err
	}
	if ct := r.Header.Get("Content-Type"); !isMediaType(ct, "application/json") {
		return false, &Error{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type",
			Message: fmt.Sprintf("send the body as application/json, not %q", ct)}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return false, jsonProblem(err)
	}
	if dec.More() {
		return false, badRequest("the body must hold exactly one JSON object")
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); err != io.EOF {
		return false, badRequest("the body must hold exactly one JSON object")
	}
	return false, nil
}

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, &Error{Status: http.StatusRequestEntityTooLarge, Code: "request_too_large",
			Message: fmt.Sprintf("the body is larger than %d bytes", maxBody)}
	}
	if err != nil {
		return nil, bodyReadProblem(err)
	}
	return body, nil
}

// bodyReadProblem words a body that could not be read: too slow (the
// server's body timeout, see ConnLimiter.Handler) or broken.
func bodyReadProblem(err error) error {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return &Error{Status: http.StatusRequestTimeout, Code: "request_timeout",
			Message: "the body did not arrive in time; send it whole, at once"}
	}
	return badRequest("the body could not be read")
}

// jsonProblem names what is wrong with a JSON body.
func jsonProblem(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return badRequest("malformed JSON at byte %d: %v", syntax.Offset, syntax)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("the JSON body ends too early")
	case errors.As(err, &typ) && typ.Field != "":
		want := typ.Type.String()
		if tu := reflect.TypeFor[encoding.TextUnmarshaler](); typ.Type.Implements(tu) || reflect.PointerTo(typ.Type).Implements(tu) {
			want = "string" // a Duration, written as text
		}
		return badRequest("field %q must be a %s, not %s", typ.Field, want, typ.Value)
	case errors.As(err, &typ):
		return badRequest("the body must be a JSON object, not %s", typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return badRequest("unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return badRequest("the JSON body is invalid: %v", err)
}

// readForm parses an application/x-www-form-urlencoded body (RFC 6749
// §3.2: parameters in the body, each at most once).
func readForm(w http.ResponseWriter, r *http.Request) (map[string]string, error) {
	if ct := r.Header.Get("Content-Type"); !isMediaType(ct, "application/x-www-form-urlencoded") {
		return nil, badRequest("send the parameters as application/x-www-form-urlencoded, not %q", ct)
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, &Error{Status: http.StatusRequestEntityTooLarge, Code: "invalid_request",
				Message: fmt.Sprintf("the body is larger than %d bytes", maxBody)}
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, bodyReadProblem(err)
		}
		return nil, badRequest("the form body is malformed")
	}
	form := make(map[string]string, len(r.PostForm))
	for k, v := range r.PostForm {
		if len(v) > 1 {
			return nil, badRequest("parameter %q appears more than once", k)
		}
		form[k] = v[0]
	}
	return form, nil
}

func isMediaType(header, want string) bool {
	mt, _, err := mime.ParseMediaType(header)
	return err == nil && mt == want
}
