package scenarios

import "context"

// Play runs a scenario one step at a time, for players that show each
// step before the next (the TUI). Close it when done.
type Play struct {
	Scenario *Scenario
	w        *world
	next     int
	failed   bool
}

// Start prepares a scenario's world (server, clock, settings). A non-empty
// skip says why it cannot run here; then the Play is nil.
func (r *Runner) Start(ctx context.Context, sc *Scenario) (p *Play, skip string, err error) {
	w, skip, err := r.setup(ctx, sc)
	if skip != "" || err != nil {
		return nil, skip, err
	}
	return &Play{Scenario: sc, w: w}, "", nil
}

// Done reports whether every step ran or one failed.
func (p *Play) Done() bool { return p.failed || p.next >= len(p.Scenario.Steps) }

// Next runs the next step.
func (p *Play) Next(ctx context.Context) StepResult {
	st := p.Scenario.Steps[p.next]
	p.next++
	sr := p.w.run(ctx, p.next, st)
	if sr.Status == Failed {
		p.failed = true
	}
	return sr
}

// Close stops the scenario's server and restores what it changed.
func (p *Play) Close() error { return p.w.close() }
