package scenarios

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"
	"time"
)

// degradedAndInterrupted returns a passed scenario with a skipped check
// (events without the admin API) and a scenario cut short by Ctrl-C.
func degradedAndInterrupted(t *testing.T) []Result {
	t.Helper()
	e := external(t)
	r := NewRunner()
	r.Server = e.URL
	degraded := r.Run(t.Context(), mustParse(t, "d.yaml", "name: degraded\nsteps:\n  - login: {}\n  - refresh:\n    expect: {events: {rotation: 1}}\n"))
	ctx, cancel := context.WithCancel(t.Context())
	slow := mustParse(t, "slow.yaml", "name: slow\nsteps:\n  - login: {}\n  - wait: 1m\n")
	r2 := NewRunner()
	r2.OnStep = func(_ *Scenario, sr StepResult) {
		if sr.N == 1 {
			time.AfterFunc(10*time.Millisecond, cancel)
		}
	}
	cut := r2.Run(ctx, slow)
	if degraded.Status != Passed || degraded.SkippedChecks != 1 || !cut.Interrupted || cut.Status != Skipped {
		t.Fatalf("samples: %+v / %+v", degraded, cut)
	}
	return []Result{degraded, cut}
}

func TestReportsSaySkippedChecksAndInterruptions(t *testing.T) {
	results := degradedAndInterrupted(t)

	var js bytes.Buffer
	if err := WriteJSON(&js, results, time.Second); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Scenarios []struct {
			Name          string
			Status        string
			SkippedChecks int
			Interrupted   bool
			Steps         []struct{ SkippedChecks []string }
		}
	}
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if s := doc.Scenarios; s[0].SkippedChecks != 1 || len(s[0].Steps[1].SkippedChecks) != 1 || !s[1].Interrupted || s[1].Status != Skipped {
		t.Errorf("JSON: %+v", doc)
	}

	var xb bytes.Buffer
	if err := WriteJUnit(&xb, results, time.Second); err != nil {
		t.Fatal(err)
	}
	var ju struct {
		Suite struct {
			Cases []struct {
				Name       string `xml:"name,attr"`
				SystemOut  string `xml:"system-out"`
				Properties []struct {
					Name  string `xml:"name,attr"`
					Value string `xml:"value,attr"`
				} `xml:"properties>property"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(xb.Bytes(), &ju); err != nil {
		t.Fatal(err)
	}
	c := ju.Suite.Cases
	if len(c[0].Properties) != 1 || c[0].Properties[0].Name != "skipped_checks" || c[0].Properties[0].Value != "1" ||
		!strings.Contains(c[0].SystemOut, "○ check skipped: events: step 2 (refresh)") {
		t.Errorf("JUnit, skipped check: %+v", c[0])
	}
	if len(c[1].Properties) != 1 || c[1].Properties[0].Name != "interrupted" {
		t.Errorf("JUnit, interrupted: %+v", c[1])
	}

	var tb bytes.Buffer
	if err := WriteTAP(&tb, results); err != nil {
		t.Fatal(err)
	}
	points, diags := checkTAP14(t, tb.String())
	if points[0][1] != "ok" || diags[1]["severity"] != "skipped-checks" || diags[1]["message"] != "1 check skipped" {
		t.Errorf("TAP, skipped check: %v %v\n%s", points[0], diags[1], tb.String())
	}
	// A scenario cut short proved nothing: not ok, never a SKIP that
	// readers count as a pass.
	if points[1][1] != "not ok" || diags[2]["severity"] != "interrupted" || diags[2]["message"] != "interrupted after 1 step" {
		t.Errorf("TAP, interrupted: %q %v\n%s", points[1][0], diags[2], tb.String())
	}

	var text bytes.Buffer
	if err := WriteText(plain(&text), results, time.Second); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"✓ degraded passed (2 steps", ", 1 check skipped)", "○ slow skipped: interrupted after 1 step"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, text.String())
		}
	}
}

// Wrong today 9: TAP wrote got: "false", a string.
func TestTAPWritesTypedValues(t *testing.T) {
	res := runOne(t, "name: t\nsteps:\n  - login: {}\n  - request: /protected\n    expect: {login_required: true}\n")
	var b bytes.Buffer
	WriteTAP(&b, []Result{res})
	_, diags := checkTAP14(t, b.String())
	if got, ok := diags[1]["got"].(bool); !ok || got {
		t.Errorf("got = %#v, want the boolean false\n%s", diags[1]["got"], b.String())
	}
	if !strings.Contains(b.String(), "got: false\n") {
		t.Errorf("TAP:\n%s", b.String())
	}
}
