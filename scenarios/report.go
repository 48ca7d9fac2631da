package scenarios

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"charm.land/lipgloss/v2"
	"go.yaml.in/yaml/v3"
)

// Report formats.
const (
	FormatText  = "text"  // for people: narration, ✓/✗ per step, a closing count
	FormatJSON  = "json"  // every scenario and step with timings
	FormatJUnit = "junit" // JUnit XML, for CI systems' test tabs
	FormatTAP   = "tap"   // TAP version 14
)

// Formats lists the report formats.
var Formats = []string{FormatText, FormatJSON, FormatJUnit, FormatTAP}

// Run is what a report covers: the results of the scenarios that ran,
// the wall time of the whole run (less than the sum of the results'
// durations when they ran in parallel), and whether Ctrl-C or SIGTERM
// cut the run short, before Planned scenarios had run.
type Run struct {
	Results     []Result
	Elapsed     time.Duration
	Planned     int // the scenarios asked for; len(Results) when 0
	Interrupted bool
}

func (run Run) planned() int { return max(run.Planned, len(run.Results)) }

// notRun says how much of an interrupted run did not run.
func (run Run) notRun() string {
	return fmt.Sprintf("interrupted: %d of %d scenarios ran", len(run.Results), run.planned())
}

// WriteReport writes a run's report in a format.
func WriteReport(w io.Writer, format string, run Run) error {
	switch format {
	case FormatText:
		return writeText(w, run)
	case FormatJSON:
		return writeJSON(w, run)
	case FormatJUnit:
		return writeJUnit(w, run)
	case FormatTAP:
		return writeTAP(w, run)
	}
	return fmt.Errorf("unknown report format %q (want one of %s)", format, strings.Join(Formats, ", "))
}

// WriteText, WriteJSON, WriteJUnit and WriteTAP write the report of a run
// that was not interrupted.
func WriteText(w io.Writer, results []Result, elapsed time.Duration) error {
	return writeText(w, Run{Results: results, Elapsed: elapsed})
}

func WriteJSON(w io.Writer, results []Result, elapsed time.Duration) error {
	return writeJSON(w, Run{Results: results, Elapsed: elapsed})
}

func WriteJUnit(w io.Writer, results []Result, elapsed time.Duration) error {
	return writeJUnit(w, Run{Results: results, Elapsed: elapsed})
}

func WriteTAP(w io.Writer, results []Result) error { return writeTAP(w, Run{Results: results}) }

// Counts are how many scenarios passed, failed and were skipped.
type Counts struct {
	Passed  int `json:"passed"`
	Failed  int `json:"failed"`
	Skipped int `json:"skipped"`
	XFailed int `json:"xfailed"` // failed where their xfail said they would
}

// Count counts results by status.
func Count(results []Result) Counts {
	var c Counts
	for _, r := range results {
		switch r.Status {
		case Passed:
			c.Passed++
		case Failed:
			c.Failed++
		case Skipped:
			c.Skipped++
		case XFailed:
			c.XFailed++
		}
	}
	return c
}

// line is the closing line of a text report, in a form CI log readers
// can count: "10 passed, 1 failed, 0 skipped in 0.42s".
func (c Counts) line(elapsed time.Duration) string {
	xfailed := ""
	if c.XFailed > 0 {
		xfailed = fmt.Sprintf(", %d xfailed", c.XFailed)
	}
	return fmt.Sprintf("%d passed, %d failed, %d skipped%s in %.2fs", c.Passed, c.Failed, c.Skipped, xfailed, elapsed.Seconds())
}

// Summary is the first sentence of the scenario's description, on one
// line: what `tokenlab scenarios` lists.
func (s *Scenario) Summary() string { return firstSentence(s.Description) }

func firstSentence(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	for i := 0; i < len(s); i++ {
		if (s[i] == '.' || s[i] == '!' || s[i] == '?') && (i+1 == len(s) || s[i+1] == ' ') {
			return s[:i+1]
		}
	}
	return s
}

// failedStep returns the step that failed a scenario, if one did.
func failedStep(r Result) (StepResult, bool) {
	for _, st := range r.Steps {
		if st.Status == Failed {
			return st, true
		}
	}
	return StepResult{}, false
}

// at is where a step is written: "file:line".
func at(file string, line int) string { return file + ":" + strconv.Itoa(line) }

// expectation splits a failure written as "expected X, got Y" (or
// "expected X, but it Y") into its halves; ok is false for failures of
// another form, such as a broken connection.
func expectation(failure string) (expected, got string, ok bool) {
	rest, ok := strings.CutPrefix(failure, "expected ")
	if !ok {
		return "", "", false
	}
	if e, g, ok := strings.Cut(rest, ", got "); ok {
		return e, g, true
	}
	if e, g, ok := strings.Cut(rest, ", but it "); ok {
		return e, "it " + g, true
	}
	return rest, "", true
}

// ---- text ----

// textStyles are the text report's colours. Which of them reach the
// terminal is the writer's choice (see colorprofile.Writer).
type textStyles struct {
	name, file, desc, say, pass, fail, skip, where, failure lipgloss.Style
}

func newTextStyles() textStyles {
	s := lipgloss.NewStyle()
	return textStyles{
		name:    s.Bold(true),
		file:    s.Faint(true),
		desc:    s.Faint(true),
		say:     s.Italic(true).Foreground(lipgloss.Cyan),
		pass:    s.Foreground(lipgloss.Green),
		fail:    s.Bold(true).Foreground(lipgloss.Red),
		skip:    s.Foreground(lipgloss.Yellow),
		where:   s.Faint(true),
		failure: s.Foreground(lipgloss.Red),
	}
}

// Text is the report for people: each scenario's teaching text, its
// narration, ✓ or ✗ with a summary per step, failures as "expected …,
// got …" with the file and line, and a closing count. It can print as
// the steps happen (Step as Runner.OnStep, Done as Runner.OnScenario) or
// a scenario at a time (Done alone, which is safe from parallel runs).
type Text struct {
	mu   sync.Mutex
	w    io.Writer
	s    textStyles
	open *Scenario // the scenario whose steps are being printed live
	err  error
}

// NewText returns a text reporter writing to w.
func NewText(w io.Writer) *Text { return &Text{w: w, s: newTextStyles()} }

// Err returns the first write error.
func (t *Text) Err() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.err
}

func (t *Text) printf(format string, args ...any) {
	if t.err == nil {
		_, t.err = fmt.Fprintf(t.w, format, args...)
	}
}

// Step prints one step as it finishes, after the scenario's header when
// it is the scenario's first.
func (t *Text) Step(sc *Scenario, sr StepResult) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.open != sc {
		t.open = sc
		t.header(sc.Name, sc.File, sc.Description)
	}
	t.step(sc.File, sr)
}

// Done prints the end of a scenario: only its outcome when its steps were
// printed live, the whole scenario otherwise.
func (t *Text) Done(sc *Scenario, res Result) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if sc == nil || t.open != sc {
		t.header(res.Name, res.File, res.Description)
		for _, st := range res.Steps {
			t.step(res.File, st)
		}
	}
	t.open = nil
	t.outcome(res)
}

// Summary prints the failures again, then whether the run was
// interrupted, then the closing count as the last line.
func (t *Text) Summary(run Run) {
	t.mu.Lock()
	defer t.mu.Unlock()
	c := Count(run.Results)
	if c.Failed > 0 {
		t.printf("%s\n", t.s.fail.Render("Failed:"))
		for _, r := range run.Results {
			if r.Status == Failed {
				t.printf("  %s %s\n", t.s.fail.Render("✗ "+r.Name), t.s.failure.Render(r.Reason))
			}
		}
		t.printf("\n")
	}
	if run.Interrupted {
		t.printf("%s\n", t.s.fail.Render(run.notRun()+"; the run is incomplete"))
	}
	t.printf("%s\n", c.line(run.Elapsed))
}

func (t *Text) header(name, file, desc string) {
	t.printf("%s  %s\n", t.s.name.Render(name), t.s.file.Render(file))
	if desc = strings.TrimSpace(desc); desc != "" {
		for line := range strings.Lines(desc) {
			t.printf("  %s\n", t.s.desc.Render(strings.TrimRight(line, "\n")))
		}
	}
	t.printf("\n")
}

func (t *Text) step(file string, sr StepResult) {
	if sr.Say != "" {
		t.printf("  %s\n", t.s.say.Render(strings.TrimSpace(sr.Say)))
	}
	summary := sr.Summary
	if summary == "" {
		summary = sr.Kind
	}
	if sr.Status == Failed {
		t.printf("  %s %s\n", t.s.fail.Render(fmt.Sprintf("✗ %d", sr.N)), summary)
		for _, f := range sr.Failures {
			t.printf("      %s\n", t.s.failure.Render(f))
		}
		if msg := sr.Got.Message; msg != "" {
			t.printf("      %s\n", t.s.where.Render("the server said: "+oneLine(msg)))
		}
		t.printf("      %s\n", t.s.where.Render("at "+at(file, sr.Line)))
		return
	}
	t.printf("  %s %s\n", t.s.pass.Render(fmt.Sprintf("✓ %d", sr.N)), summary)
	for _, c := range sr.SkippedChecks {
		t.printf("      %s\n", t.s.skip.Render("○ check skipped: "+c))
	}
}

// skippedNote is what a report adds to a scenario with skipped checks.
func skippedNote(r Result) string {
	if r.SkippedChecks == 0 {
		return ""
	}
	return plural(r.SkippedChecks, "check") + " skipped"
}

func (t *Text) outcome(r Result) {
	for _, n := range r.Notes {
		t.printf("  %s\n", t.s.skip.Render("○ "+n))
	}
	took := r.Duration.Round(time.Millisecond)
	if took == 0 && r.DurationMS > 0 {
		took = time.Duration(r.DurationMS * float64(time.Millisecond)).Round(time.Millisecond)
	}
	switch r.Status {
	case Passed:
		note := ""
		if n := skippedNote(r); n != "" {
			note = ", " + n
		}
		t.printf("%s %s\n\n", t.s.pass.Render("✓ "+r.Name+" passed"), t.s.where.Render(fmt.Sprintf("(%s, %v%s)", plural(len(r.Steps), "step"), took, note)))
	case Skipped:
		t.printf("%s %s\n\n", t.s.skip.Render("○ "+r.Name+" skipped:"), r.Reason)
	case XFailed:
		t.printf("%s %s\n\n", t.s.skip.Render("○ "+r.Name+" failed as expected (xfail: "+r.XFail+"):"), r.Reason)
	default:
		if _, ok := failedStep(r); ok {
			t.printf("%s %s\n\n", t.s.fail.Render("✗ "+r.Name+" failed"), t.s.where.Render(fmt.Sprintf("(%v)", took)))
		} else { // it failed before its first step
			t.printf("%s %s\n\n", t.s.fail.Render("✗ "+r.Name+" failed:"), t.s.failure.Render(r.Reason))
		}
		t.appOutput(r)
	}
}

// writeText writes finished results as the text report.
func writeText(w io.Writer, run Run) error {
	t := NewText(w)
	for _, r := range run.Results {
		t.Done(nil, r)
	}
	t.Summary(run)
	return t.Err()
}

// ---- JSON ----

// jsonReport is the JSON report.
type jsonReport struct {
	Counts
	// Planned is how many scenarios were asked for; fewer ran when the
	// run was interrupted.
	Planned     int      `json:"planned"`
	Interrupted bool     `json:"interrupted"`
	DurationMS  float64  `json:"durationMs"`
	Scenarios   []Result `json:"scenarios"`
}

// writeJSON writes every scenario and step, with timings, as one JSON
// document.
func writeJSON(w io.Writer, run Run) error {
	rep := jsonReport{Counts: Count(run.Results), Planned: run.planned(), Interrupted: run.Interrupted,
		DurationMS: ms(run.Elapsed), Scenarios: make([]Result, len(run.Results))}
	for i, r := range run.Results {
		if r.Steps == nil {
			r.Steps = []StepResult{}
		}
		rep.Scenarios[i] = r
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(rep)
}

// ---- JUnit ----

// JUnit XML as Jenkins, GitLab and GitHub's test reporters read it.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name       string           `xml:"name,attr"`
	Classname  string           `xml:"classname,attr"`
	File       string           `xml:"file,attr,omitempty"`
	Time       string           `xml:"time,attr"`
	Failure    *junitFailure    `xml:"failure,omitempty"`
	Error      *junitFailure    `xml:"error,omitempty"` // the run was interrupted here
	Skipped    *junitSkipped    `xml:"skipped,omitempty"`
	Properties *junitProperties `xml:"properties,omitempty"`
	SystemOut  xmlText          `xml:"system-out,omitempty"`
	SystemErr  xmlText          `xml:"system-err,omitempty"` // the app under test's output
}

// junitProperties say what the pass/fail/skip of a test case cannot: how
// many of its checks were skipped, and whether Ctrl-C cut it short.
type junitProperties struct {
	Property []junitProperty `xml:"property"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

func caseProperties(r Result) *junitProperties {
	var p junitProperties
	if r.SkippedChecks > 0 {
		p.Property = append(p.Property, junitProperty{"skipped_checks", strconv.Itoa(r.SkippedChecks)})
	}
	if r.Interrupted {
		p.Property = append(p.Property, junitProperty{"interrupted", "true"})
	}
	p.Property = append(p.Property, propertiesV3(r)...)
	if len(p.Property) == 0 {
		return nil
	}
	return &p
}

type junitFailure struct {
	Message string
	Type    string
	Text    xmlText
}

func (f junitFailure) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	start.Attr = append(start.Attr, xml.Attr{Name: xml.Name{Local: "message"}, Value: f.Message},
		xml.Attr{Name: xml.Name{Local: "type"}, Value: f.Type})
	return f.Text.MarshalXML(e, start)
}

// xmlText is an element's text with its line breaks kept as they are;
// encoding/xml would write them as &#xA;, which is as valid and harder to
// read in a CI artifact.
type xmlText string

func (t xmlText) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	for _, tok := range []xml.Token{start, xml.CharData(t), start.End()} {
		if err := e.EncodeToken(tok); err != nil {
			return err
		}
	}
	return nil
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

func seconds(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) }

// writeJUnit writes the results as a JUnit XML test suite, one test case
// per scenario, with the narration as its output. An interrupted run has
// an error: on the scenario it cut short, or on a test case of its own
// when it stopped between scenarios, so that no CI reads it as green.
func writeJUnit(w io.Writer, run Run) error {
	c := Count(run.Results)
	// An expected failure is a skipped test case, as pytest writes xfail.
	suite := junitSuite{Name: "tokenlab scenarios", Tests: len(run.Results), Failures: c.Failed, Skipped: c.Skipped + c.XFailed, Time: seconds(run.Elapsed)}
	cut := false
	for _, r := range run.Results {
		tc := junitCase{Name: r.Name, Classname: "tokenlab.scenarios", File: r.File, Time: seconds(r.Duration),
			Properties: caseProperties(r), SystemOut: xmlText(narration(r)), SystemErr: xmlText(r.AppOutput)}
		switch {
		case r.Interrupted && r.Status != Failed:
			msg := r.Reason + " (" + run.notRun() + ")"
			tc.Error = &junitFailure{Message: msg, Type: "interrupted", Text: xmlText(msg)}
			suite.Skipped--
			cut = true
		case r.Status == Skipped:
			tc.Skipped = &junitSkipped{Message: r.Reason}
		case r.Status == XFailed:
			tc.Skipped = &junitSkipped{Message: "expected failure (xfail: " + r.XFail + "): " + r.Reason}
		case r.Status == Failed:
			tc.Failure = &junitFailure{Message: r.Reason, Type: "setup", Text: xmlText(r.Reason)}
			if r.XPassed {
				tc.Failure.Type = "xpass"
			}
			if st, ok := failedStep(r); ok {
				tc.Failure.Type = "step " + strconv.Itoa(st.N) + " (" + st.Kind + ")"
				tc.Failure.Text = xmlText(failureText(r.File, st))
			}
		}
		suite.Cases = append(suite.Cases, tc)
	}
	if run.Interrupted && !cut {
		msg := run.notRun()
		suite.Cases = append(suite.Cases, junitCase{Name: "interrupted", Classname: "tokenlab.scenarios", Time: "0.000",
			Error: &junitFailure{Message: msg, Type: "interrupted", Text: xmlText(msg)}})
		suite.Tests++
	}
	if run.Interrupted {
		suite.Errors = 1
	}
	doc := junitSuites{Name: "tokenlab", Tests: suite.Tests, Failures: suite.Failures, Errors: suite.Errors, Skipped: suite.Skipped,
		Time: suite.Time, Suites: []junitSuite{suite}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// failureText says which step failed, where, what it did, and each
// expected/got pair.
func failureText(file string, st StepResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "step %d (%s) at %s: %s\n", st.N, st.Kind, at(file, st.Line), st.Summary)
	for _, f := range st.Failures {
		if e, g, ok := expectation(f); ok {
			fmt.Fprintf(&b, "expected: %s\ngot:      %s\n", e, g)
		} else {
			fmt.Fprintf(&b, "%s\n", f)
		}
	}
	return b.String()
}

// narration is a scenario's story in plain text: each step's say line
// and outcome.
func narration(r Result) string {
	var b strings.Builder
	for _, st := range r.Steps {
		if st.Say != "" {
			fmt.Fprintf(&b, "%s\n", strings.TrimSpace(st.Say))
		}
		mark := "✓"
		if st.Status == Failed {
			mark = "✗"
		}
		fmt.Fprintf(&b, "  %s %d %s\n", mark, st.N, st.Summary)
		for _, f := range st.Failures {
			fmt.Fprintf(&b, "      %s\n", f)
		}
		for _, c := range st.SkippedChecks {
			fmt.Fprintf(&b, "      ○ check skipped: %s\n", c)
		}
	}
	return b.String()
}

// ---- TAP ----

// tapDiagnostic is the YAML block under a "not ok" line.
type tapDiagnostic struct {
	Message  string `yaml:"message"`
	Severity string `yaml:"severity"`
	At       string `yaml:"at,omitempty"`
	Step     int    `yaml:"step,omitempty"`
	Kind     string `yaml:"kind,omitempty"`
	Summary  string `yaml:"summary,omitempty"`
	Expected any    `yaml:"expected,omitempty"` // a string, or a list when several checks failed
	Got      any    `yaml:"got,omitempty"`
	// DurationMS is the scenario's time, as node-tap writes it.
	DurationMS float64 `yaml:"duration_ms"`
	// AppOutput is the app under test's output, on a failure.
	AppOutput string `yaml:"app_output,omitempty"`
}

// writeTAP writes the results as TAP version 14: one test point per
// scenario, a YAML diagnostic under each failure, and SKIP directives.
// The plan is the number of scenarios asked for; an interrupted run ends
// with "Bail out!", which every TAP reader takes as a failed run.
func writeTAP(w io.Writer, run Run) error {
	var b strings.Builder
	fmt.Fprintf(&b, "TAP version 14\n1..%d\n", run.planned())
	for i, r := range run.Results {
		name := tapEscape(r.Name)
		switch {
		case r.Interrupted && r.Status != Failed:
			fmt.Fprintf(&b, "not ok %d - %s\n", i+1, name)
			if err := writeTAPBlock(&b, map[string]any{"message": r.Reason, "severity": "interrupted"}); err != nil {
				return err
			}
		case r.Status == Passed:
			fmt.Fprintf(&b, "ok %d - %s\n", i+1, name)
			// A YAML block may follow any test point: its duration, and
			// which checks could not be made.
			block := map[string]any{"duration_ms": r.DurationMS}
			if r.SkippedChecks > 0 {
				block = map[string]any{"message": skippedNote(r), "severity": "skipped-checks",
					"skipped_checks": skippedChecks(r), "duration_ms": r.DurationMS}
			}
			if len(r.Notes) > 0 {
				block["notes"] = r.Notes
			}
			if err := writeTAPBlock(&b, block); err != nil {
				return err
			}
		case r.Status == XFailed:
			// TAP's TODO: a failure that does not fail the run.
			fmt.Fprintf(&b, "not ok %d - %s # TODO %s\n", i+1, name, tapEscape(r.XFail))
			if err := writeTAPBlock(&b, diagnostic(r)); err != nil {
				return err
			}
		case r.Status == Skipped:
			fmt.Fprintf(&b, "ok %d - %s # SKIP %s\n", i+1, name, oneLine(r.Reason))
		default:
			fmt.Fprintf(&b, "not ok %d - %s\n", i+1, name)
			if err := writeTAPBlock(&b, diagnostic(r)); err != nil {
				return err
			}
		}
	}
	if run.Interrupted {
		fmt.Fprintf(&b, "Bail out! %s\n", run.notRun())
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func diagnostic(r Result) tapDiagnostic {
	d := tapDiagnostic{Message: r.Reason, Severity: "fail", DurationMS: r.DurationMS, AppOutput: r.AppOutput}
	switch {
	case r.Status == XFailed:
		d.Severity = "todo"
	case r.XPassed:
		d.Severity = "xpass"
	}
	st, ok := failedStep(r)
	if !ok {
		return d
	}
	d.At, d.Step, d.Kind, d.Summary = at(r.File, st.Line), st.N, st.Kind, st.Summary
	var expected, got []string
	for _, f := range st.Failures {
		if e, g, ok := expectation(f); ok {
			expected, got = append(expected, e), append(got, g)
		}
	}
	switch len(expected) {
	case 0:
	case 1:
		d.Expected, d.Got = typed(expected[0]), typed(got[0])
	default:
		d.Expected, d.Got = typedAll(expected), typedAll(got)
	}
	if len(st.Failures) > 0 {
		d.Message = strings.Join(st.Failures, "; ")
	}
	return d
}

// tapEscape keeps a description on one line and free of '#': TAP 14
// allows "\#", but a TAP 13 reader takes what follows an escaped '#' as a
// directive, and "not ok 1 - fix \# SKIP" would read as a skip. A '#' is
// written as the look-alike '＃' (U+FF03), which no reader takes for one.
func tapEscape(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	return oneLine(strings.ReplaceAll(s, "#", "＃"))
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func writeTAPBlock(b *strings.Builder, v any) error {
	block, err := yaml.Marshal(v)
	if err != nil {
		return err
	}
	b.WriteString("  ---\n")
	for line := range strings.Lines(string(block)) {
		b.WriteString("  " + line)
	}
	b.WriteString("  ...\n")
	return nil
}

func skippedChecks(r Result) []string {
	var out []string
	for _, st := range r.Steps {
		out = append(out, st.SkippedChecks...)
	}
	return out
}

// typedAll types every element, so a list of counts is a list of numbers.
func typedAll(texts []string) []any {
	out := make([]any, len(texts))
	for i, t := range texts {
		out[i] = typed(t)
	}
	return out
}

// typed turns a "got" or "expected" text that is a number or a boolean
// into that value, so that YAML writes got: false, not got: "false".
func typed(s string) any {
	if b, err := strconv.ParseBool(s); err == nil && (s == "true" || s == "false") {
		return b
	}
	if n, err := strconv.Atoi(s); err == nil {
		return n
	}
	return s
}
