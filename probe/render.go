package probe

import (
	"fmt"
	"strconv"
	"strings"

	"charm.land/lipgloss/v2"
	"charm.land/lipgloss/v2/table"
)

// Value words a trait's value as the JSON has it (null when unmeasured).
func Value(t Traits, key string) string {
	v := t.values()[key]
	switch v := v.(type) {
	case nil:
		return "null"
	case Grace:
		b, _ := v.MarshalJSON()
		return strings.Trim(string(b), `"`) // >15, not ">15"

	case ReuseError:
		return strconv.Itoa(v.Status) + " " + v.Error
	default:
		return fmt.Sprint(v)
	}
}

// rows are the table's rows: trait, measured, the closest preset's value,
// whether they agree.
func rows(r Report) [][]string {
	var want Traits
	for _, ps := range Presets {
		if ps.Name == r.ClosestPreset.Name {
			want = ps.Expected(secondsToDuration(r.MaxWaitS))
		}
	}
	agree := map[string]string{}
	for _, k := range r.ClosestPreset.Matches {
		agree[k] = "✓"
	}
	for _, k := range r.ClosestPreset.Differs {
		agree[k] = "✗"
	}
	var out [][]string
	for _, k := range TraitKeys {
		mark := agree[k]
		if mark == "" {
			mark = "–"
		}
		out = append(out, []string{k, Value(r.Traits, k), Value(want, k), mark})
	}
	return out
}

// Table renders the report for people: one row per trait beside the
// closest preset's value.
func Table(r Report) string {
	header := []string{"trait", "measured", closestName(r), ""}
	bold := lipgloss.NewStyle().Bold(true)
	t := table.New().Border(lipgloss.NormalBorder()).Headers(header...).Rows(rows(r)...).
		StyleFunc(func(row, col int) lipgloss.Style {
			s := lipgloss.NewStyle().Padding(0, 1)
			if row == table.HeaderRow || col == 0 {
				return s.Inherit(bold)
			}
			return s
		}).Render()
	return fmt.Sprintf("%s\n%s\n%s", summary(r), t, access(r))
}

// closestName is the closest preset's name, or "no preset".
func closestName(r Report) string {
	if r.ClosestPreset.Name == "" {
		return "no preset"
	}
	return r.ClosestPreset.Name
}

func summary(r Report) string {
	return fmt.Sprintf("%s (flow %s, at most %s s a trait): closest preset %s, %d of %d traits agree; %d logins, %.1f s",
		r.Target, r.Flow, strconv.FormatFloat(r.MaxWaitS, 'f', -1, 64), closestName(r),
		len(r.ClosestPreset.Matches), len(TraitKeys), r.Logins, r.ElapsedS)
}

func access(r Report) string {
	if r.AccessCheck == "" {
		return "Access tokens could not be checked (no introspection or userinfo this client may use, no --protected URL). --json has the evidence."
	}
	return "Access tokens were checked by " + r.AccessCheck + ". --json has the evidence for every trait."
}

// Markdown renders the report as a Markdown table with the evidence.
func Markdown(r Report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "## tokenlab probe of %s\n\n%s\n\n", r.Target, summary(r))
	fmt.Fprintf(&b, "| trait | measured | %s | agrees |\n| --- | --- | --- | --- |\n", closestName(r))
	for _, row := range rows(r) {
		fmt.Fprintf(&b, "| `%s` | `%s` | `%s` | %s |\n", row[0], row[1], row[2], row[3])
	}
	fmt.Fprintf(&b, "\n%s\n\n### Evidence\n", access(r))
	for _, k := range TraitKeys {
		fmt.Fprintf(&b, "\n**%s**\n\n", k)
		for _, s := range r.Evidence[k] {
			line := fmt.Sprintf("- %.1f s: %s", s.AtS, s.Request)
			if s.Status != 0 {
				line += fmt.Sprintf(" → %d", s.Status)
				if s.Error != "" {
					line += " " + s.Error
				}
			}
			if s.Outcome != "" {
				line += ": " + s.Outcome
			}
			b.WriteString(strings.ReplaceAll(line, "|", "\\|") + "\n")
		}
	}
	return b.String()
}
