package scenarios

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/colorprofile"
	"go.yaml.in/yaml/v3"
)

// sampleResults are real results of every kind: a pass, a failure at
// step 5, a skip, and a scenario that failed before its first step.
func sampleResults(t *testing.T) []Result {
	t.Helper()
	r := NewRunner()
	basic, _ := Builtin("basic-login")
	pass := r.Run(t.Context(), basic)
	fail := r.Run(t.Context(), mustParse(t, "wrong.yaml", wrongAfterRevocation))

	e := external(t)
	ext := NewRunner()
	ext.Server = e.URL
	expiry, _ := Builtin("access-expiry")
	skip := ext.Run(t.Context(), expiry)

	setup := Result{Name: `odd # name <&> \ "quoted"`, File: "odd.yaml", Status: Failed,
		Reason: "setup: PUT /admin/settings answered 500", Duration: 3 * time.Millisecond, DurationMS: 3}
	results := []Result{pass, fail, skip, setup}
	for i, want := range []string{Passed, Failed, Skipped, Failed} {
		if results[i].Status != want {
			t.Fatalf("sample %d (%s) is %s (%s), want %s", i, results[i].Name, results[i].Status, results[i].Reason, want)
		}
	}
	return results
}

const sampleElapsed = 1234 * time.Millisecond

func TestReportJUnit(t *testing.T) {
	results := sampleResults(t)
	var buf bytes.Buffer
	if err := WriteJUnit(&buf, results, sampleElapsed); err != nil {
		t.Fatal(err)
	}
	type testcase struct {
		Name      string `xml:"name,attr"`
		Classname string `xml:"classname,attr"`
		File      string `xml:"file,attr"`
		Time      string `xml:"time,attr"`
		Failure   *struct {
			Message string `xml:"message,attr"`
			Type    string `xml:"type,attr"`
			Text    string `xml:",chardata"`
		} `xml:"failure"`
		Skipped *struct {
			Message string `xml:"message,attr"`
		} `xml:"skipped"`
		SystemOut string `xml:"system-out"`
	}
	type counts struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Errors   int    `xml:"errors,attr"`
		Skipped  int    `xml:"skipped,attr"`
		Time     string `xml:"time,attr"`
	}
	var doc struct {
		XMLName xml.Name `xml:"testsuites"`
		counts
		Suites []struct {
			counts
			Cases []testcase `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("the JUnit XML does not parse: %v\n%s", err, buf.String())
	}
	if !strings.HasPrefix(buf.String(), `<?xml version="1.0" encoding="UTF-8"?>`) {
		t.Errorf("no XML declaration:\n%s", buf.String())
	}
	wantCounts := counts{Tests: 4, Failures: 2, Errors: 0, Skipped: 1, Time: "1.234"}
	if got := doc.counts; got != (counts{Name: "tokenlab", Tests: 4, Failures: 2, Skipped: 1, Time: "1.234"}) {
		t.Errorf("testsuites = %+v", got)
	}
	if len(doc.Suites) != 1 {
		t.Fatalf("%d test suites, want one", len(doc.Suites))
	}
	suite := doc.Suites[0]
	wantCounts.Name = "tokenlab scenarios"
	if suite.counts != wantCounts {
		t.Errorf("testsuite = %+v, want %+v", suite.counts, wantCounts)
	}
	if len(suite.Cases) != len(results) {
		t.Fatalf("%d test cases, want one per scenario (%d)", len(suite.Cases), len(results))
	}
	for i, tc := range suite.Cases {
		res := results[i]
		if tc.Name != res.Name || tc.Classname != "tokenlab.scenarios" || tc.File != res.File {
			t.Errorf("case %d: name %q classname %q file %q, want %q tokenlab.scenarios %q", i, tc.Name, tc.Classname, tc.File, res.Name, res.File)
		}
		if secs, err := strconv.ParseFloat(tc.Time, 64); err != nil || secs < 0 || (res.Duration > time.Millisecond && secs == 0) {
			t.Errorf("case %s: time %q for a duration of %v", tc.Name, tc.Time, res.Duration)
		}
		if (tc.Failure != nil) != (res.Status == Failed) || (tc.Skipped != nil) != (res.Status == Skipped) {
			t.Errorf("case %s (%s): failure %v, skipped %v", tc.Name, res.Status, tc.Failure != nil, tc.Skipped != nil)
		}
	}

	pass, fail, skip, setup := suite.Cases[0], suite.Cases[1], suite.Cases[2], suite.Cases[3]
	for _, say := range []string{"Alice logs in with her password", "✓ 1 log in as alice → 200", "✓ 5 log in as alice → 401 invalid_credentials"} {
		if !strings.Contains(pass.SystemOut, say) {
			t.Errorf("basic-login's system-out lacks %q:\n%s", say, pass.SystemOut)
		}
	}
	for _, want := range []string{"step 5", "wrong.yaml:9", "expected status 200", "got 401 token_revoked"} {
		if !strings.Contains(fail.Failure.Message, want) {
			t.Errorf("failure message %q lacks %q", fail.Failure.Message, want)
		}
	}
	for _, want := range []string{"step 5 (refresh) at wrong.yaml:9", "expected: status 200", "got:      401 token_revoked (login required)"} {
		if !strings.Contains(fail.Failure.Text, want) {
			t.Errorf("failure text lacks %q:\n%s", want, fail.Failure.Text)
		}
	}
	if !strings.Contains(fail.SystemOut, "Alice refreshes as if nothing happened.") || !strings.Contains(fail.SystemOut, "✗ 5") {
		t.Errorf("the failure's system-out lacks the narration or the ✗:\n%s", fail.SystemOut)
	}
	if !strings.Contains(skip.Skipped.Message, "step 4 (advance) needs the admin clock") {
		t.Errorf("skipped message = %q", skip.Skipped.Message)
	}
	if setup.Failure.Message != results[3].Reason || setup.Name != results[3].Name {
		t.Errorf("setup failure = %q %+v", setup.Name, setup.Failure)
	}
}

// tapPoint is a TAP 14 test point: "ok 1 - name # SKIP reason", where a
// "#" in the description must be escaped.
var tapPoint = regexp.MustCompile(`^(ok|not ok) ([0-9]+)(?: - ((?:[^#\\]|\\.)*?))?(?: # (SKIP|TODO)(?: (.*))?)?$`)

// checkTAP14 reads a TAP 14 document line by line and returns its test
// points and their YAML diagnostics.
func checkTAP14(t *testing.T, out string) (points [][]string, diags map[int]map[string]any) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if !strings.HasSuffix(out, "\n") {
		t.Errorf("the TAP output does not end with a newline")
	}
	if lines[0] != "TAP version 14" {
		t.Fatalf("first line %q, want TAP version 14", lines[0])
	}
	plan := regexp.MustCompile(`^1\.\.([0-9]+)$`).FindStringSubmatch(lines[1])
	if plan == nil {
		t.Fatalf("second line %q is not a plan 1..N", lines[1])
	}
	planned, _ := strconv.Atoi(plan[1])
	diags = map[int]map[string]any{}
	for i := 2; i < len(lines); i++ {
		line := lines[i]
		m := tapPoint.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("line %d %q is not a test point", i+1, line)
		}
		n, _ := strconv.Atoi(m[2])
		if n != len(points)+1 {
			t.Errorf("line %d: test point %d, want %d", i+1, n, len(points)+1)
		}
		points = append(points, m)
		if i+1 < len(lines) && lines[i+1] == "  ---" {
			var block []string
			i += 2
			for ; i < len(lines) && lines[i] != "  ..."; i++ {
				if !strings.HasPrefix(lines[i], "  ") {
					t.Fatalf("line %d %q in a YAML block is not indented by two spaces", i+1, lines[i])
				}
				block = append(block, lines[i][2:])
			}
			if i == len(lines) {
				t.Fatalf("the YAML block of test point %d has no closing '  ...'", n)
			}
			var d map[string]any
			if err := yaml.Unmarshal([]byte(strings.Join(block, "\n")), &d); err != nil {
				t.Fatalf("the YAML block of test point %d does not parse: %v\n%s", n, err, strings.Join(block, "\n"))
			}
			diags[n] = d
		}
	}
	if len(points) != planned {
		t.Errorf("%d test points, plan says %d", len(points), planned)
	}
	return points, diags
}

func TestReportTAP(t *testing.T) {
	results := sampleResults(t)
	var buf bytes.Buffer
	if err := WriteTAP(&buf, results); err != nil {
		t.Fatal(err)
	}
	points, diags := checkTAP14(t, buf.String())
	if len(points) != len(results) {
		t.Fatalf("%d test points for %d scenarios:\n%s", len(points), len(results), buf.String())
	}
	for i, p := range points {
		res := results[i]
		wantOK := map[string]string{Passed: "ok", Skipped: "ok", Failed: "not ok"}[res.Status]
		if p[1] != wantOK {
			t.Errorf("%s (%s) is %q", res.Name, res.Status, p[1])
		}
		unescaped := strings.NewReplacer("＃", "#", `\\`, `\`).Replace(p[3])
		if strings.Contains(p[3], "#") {
			t.Errorf("test point %d has a '#' in its description, which a TAP 13 reader takes for a directive: %q", i+1, p[3])
		}
		if unescaped != res.Name {
			t.Errorf("test point %d names %q, want %q", i+1, unescaped, res.Name)
		}
		if (p[4] == "SKIP") != (res.Status == Skipped) {
			t.Errorf("%s (%s): directive %q", res.Name, res.Status, p[4])
		}
		// Every point but a SKIP has a YAML block, with the duration.
		if d, ok := diags[i+1]; ok != (res.Status != Skipped) || ok && fmt.Sprint(d["duration_ms"]) != fmt.Sprint(res.DurationMS) {
			t.Errorf("%s (%s): YAML block present %v, duration_ms %v (want %v)", res.Name, res.Status, ok, d["duration_ms"], res.DurationMS)
		}
	}
	if reason := points[2][5]; !strings.Contains(reason, "step 4 (advance) needs the admin clock") {
		t.Errorf("SKIP reason = %q", reason)
	}
	d := diags[2]
	want := map[string]any{"message": "expected status 200, got 401 token_revoked (login required)", "severity": "fail",
		"at": "wrong.yaml:9", "step": 5, "kind": "refresh", "expected": "status 200", "got": "401 token_revoked (login required)"}
	for k, v := range want {
		if fmt.Sprint(d[k]) != fmt.Sprint(v) {
			t.Errorf("diagnostic %s = %v, want %v", k, d[k], v)
		}
	}
	if d := diags[4]; d["message"] != results[3].Reason || d["at"] != nil {
		t.Errorf("setup failure diagnostic = %v", d)
	}
}

func TestReportTAPSeveralFailures(t *testing.T) {
	res := Result{Name: "two", File: "two.yaml", Status: Failed, Reason: "step 1 …", Steps: []StepResult{{N: 1, Line: 3, Kind: KindRequest,
		Status: Failed, Failures: []string{"expected 1 refreshes, got 0", "expected the access token to change, but it stayed the same", "dial tcp: refused"}}}}
	var buf bytes.Buffer
	if err := WriteTAP(&buf, []Result{res}); err != nil {
		t.Fatal(err)
	}
	_, diags := checkTAP14(t, buf.String())
	if got := fmt.Sprint(diags[1]["expected"], diags[1]["got"]); got != "[1 refreshes the access token to change] [0 it stayed the same]" {
		t.Errorf("expected, got = %s\n%s", got, buf.String())
	}
	// Issue 18.9: numbers inside lists are numbers, not quoted strings.
	if got, _ := diags[1]["got"].([]any); len(got) != 2 || got[0] != 0 {
		t.Errorf("got = %#v, want the number 0 first\n%s", diags[1]["got"], buf.String())
	}
	if strings.Contains(buf.String(), `- "0"`) {
		t.Errorf("a number is quoted in a list:\n%s", buf.String())
	}
	if msg, _ := diags[1]["message"].(string); !strings.Contains(msg, "dial tcp: refused") {
		t.Errorf("message %q lacks the failure that is not an expectation", msg)
	}
}

func TestReportJSON(t *testing.T) {
	results := sampleResults(t)
	var buf bytes.Buffer
	if err := WriteJSON(&buf, results, sampleElapsed); err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Passed, Failed, Skipped int
		DurationMS              float64 `json:"durationMs"`
		Scenarios               []struct {
			Name, File, Status, Reason string
			DurationMS                 *float64 `json:"durationMs"`
			Steps                      []struct {
				N, Line    int
				Kind       string
				Status     string
				Failures   []string
				Got        map[string]any
				DurationMS *float64 `json:"durationMs"`
			}
		}
	}
	if err := json.Unmarshal(buf.Bytes(), &rep); err != nil {
		t.Fatalf("the JSON report does not decode: %v", err)
	}
	if rep.Passed != 1 || rep.Failed != 2 || rep.Skipped != 1 || rep.DurationMS != 1234 {
		t.Errorf("counts %d/%d/%d in %vms", rep.Passed, rep.Failed, rep.Skipped, rep.DurationMS)
	}
	if len(rep.Scenarios) != len(results) {
		t.Fatalf("%d scenarios, want %d", len(rep.Scenarios), len(results))
	}
	timed := 0
	for i, sc := range rep.Scenarios {
		if sc.Name != results[i].Name || sc.Status != results[i].Status || sc.DurationMS == nil {
			t.Errorf("scenario %d = %s %s (duration %v)", i, sc.Name, sc.Status, sc.DurationMS)
		}
		if sc.Steps == nil {
			t.Errorf("%s: steps is null, want a list", sc.Name)
		}
		for _, st := range sc.Steps {
			if st.DurationMS == nil {
				t.Errorf("%s step %d has no durationMs", sc.Name, st.N)
			} else if *st.DurationMS > 0 {
				timed++
			}
		}
	}
	if timed == 0 {
		t.Error("no step has a duration above 0")
	}
	if *rep.Scenarios[0].DurationMS <= 0 {
		t.Errorf("basic-login took %vms", *rep.Scenarios[0].DurationMS)
	}
	failed := rep.Scenarios[1].Steps[4]
	if failed.N != 5 || failed.Line != 9 || failed.Status != Failed || len(failed.Failures) != 1 || failed.Got["error"] != "token_revoked" {
		t.Errorf("failed step = %+v", failed)
	}
}

var closingLine = regexp.MustCompile(`^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped in [0-9]+\.[0-9]{2}s$`)

func plain(buf *bytes.Buffer) *colorprofile.Writer {
	return &colorprofile.Writer{Forward: buf, Profile: colorprofile.NoTTY}
}

func TestReportText(t *testing.T) {
	results := sampleResults(t)
	var buf bytes.Buffer
	if err := WriteText(plain(&buf), results, sampleElapsed); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if strings.Contains(out, "\x1b") {
		t.Errorf("ANSI escapes with colour off:\n%q", out)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if last := lines[len(lines)-1]; last != "1 passed, 2 failed, 1 skipped in 1.23s" || !closingLine.MatchString(last) {
		t.Errorf("last line %q", last)
	}
	for _, want := range []string{
		"basic-login  builtin/basic-login.yaml",
		"  Logging in trades a password for two tokens.", // the teaching text
		"  Alice logs in with her password and receives an access token and a refresh token.",
		"  ✓ 1 log in as alice → 200",
		"✓ basic-login passed (5 steps, ",
		"  Alice refreshes as if nothing happened.",
		"  ✗ 5 refresh now → 401 token_revoked (login required)\n      expected status 200, got 401 token_revoked (login required)\n      the server said: ",
		"revoked", // the server's error_description (issue 18.9)
		"\n      at wrong.yaml:9\n",
		"✗ wrong-after-revocation failed",
		"○ access-expiry skipped: step 4 (advance) needs the admin clock",
		"✗ " + results[3].Name + " failed: setup: PUT /admin/settings answered 500",
		"Failed:\n  ✗ wrong-after-revocation step 5 (refresh, wrong.yaml:9): expected status 200",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the text report lacks %q:\n%s", want, out)
		}
	}

	var colour bytes.Buffer
	if err := WriteText(&colour, results, sampleElapsed); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(colour.String(), "\x1b[") {
		t.Error("no ANSI escapes when the writer keeps colour")
	}
	colourLines := strings.Split(strings.TrimSuffix(colour.String(), "\n"), "\n")
	if last := colourLines[len(colourLines)-1]; !closingLine.MatchString(last) {
		t.Errorf("with colour, the last line %q is not the plain count", last)
	}
}

func TestReportTextLive(t *testing.T) {
	scs := []*Scenario{mustParse(t, "wrong.yaml", wrongAfterRevocation)}
	for _, name := range []string{"basic-login", "access-expiry", "tampered-token"} {
		sc, _ := Builtin(name)
		scs = append(scs, sc)
	}
	// Each scenario's block as the after-the-fact report prints it.
	block := func(res Result) string {
		var b bytes.Buffer
		tx := NewText(plain(&b))
		tx.Done(nil, res)
		return b.String()
	}

	t.Run("step by step with -j 1 prints what the report prints", func(t *testing.T) {
		var live bytes.Buffer
		tx := NewText(plain(&live))
		r := NewRunner()
		var steps int
		r.OnStep = func(sc *Scenario, sr StepResult) {
			steps++
			before := live.Len()
			tx.Step(sc, sr)
			if !strings.Contains(live.String()[before:], fmt.Sprintf(" %d %s", sr.N, sr.Summary)) {
				t.Errorf("step %d of %s was not printed when it finished", sr.N, sc.Name)
			}
		}
		r.OnScenario = tx.Done
		results := r.RunAll(t.Context(), scs, 1)
		tx.Summary(Run{Results: results, Elapsed: sampleElapsed})
		var after bytes.Buffer
		if err := WriteText(plain(&after), results, sampleElapsed); err != nil {
			t.Fatal(err)
		}
		if live.String() != after.String() {
			t.Errorf("live output differs from the report:\n%s\n---\n%s", live.String(), after.String())
		}
		if steps == 0 {
			t.Error("OnStep never ran")
		}
	})
	t.Run("a scenario at a time with -j 4 keeps each scenario together", func(t *testing.T) {
		var out bytes.Buffer
		tx := NewText(plain(&out))
		r := NewRunner()
		r.OnScenario = tx.Done
		results := r.RunAll(t.Context(), scs, 4)
		for _, res := range results {
			if !strings.Contains(out.String(), block(res)) {
				t.Errorf("%s is not printed in one piece:\n%s", res.Name, out.String())
			}
		}
	})
}

func TestFirstSentence(t *testing.T) {
	for in, want := range map[string]string{
		"One. Two.":                      "One.",
		"Spread\nover  lines. And more.": "Spread over lines.",
		"No full stop":                   "No full stop",
		"Version 1.5 is out. Yes.":       "Version 1.5 is out.",
		"Really? Yes.":                   "Really?",
		"":                               "",
	} {
		if got := firstSentence(in); got != want {
			t.Errorf("firstSentence(%q) = %q, want %q", in, got, want)
		}
	}
}
