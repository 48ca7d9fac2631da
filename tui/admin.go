package tui

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/tokenlab/tokenlab/mockserver/auth"
)

// adminAPI reads the embedded server's event log and policy through its
// admin routes, as the scenario runner does: the lab never opens the
// server's database itself.
type adminAPI struct {
	url, token string
	http       *http.Client
}

func newAdminAPI(url, token string) *adminAPI {
	return &adminAPI{url: url, token: token, http: &http.Client{Timeout: 10 * time.Second}}
}

// policy is the part of the server's settings the cards need.
type policy struct {
	known bool // read from the server; false against another API
	// accessDenylist: the API refuses an access token whose session was
	// revoked. Off, access tokens are stateless: accepted until exp.
	accessDenylist bool
}

func (a *adminAPI) get(ctx context.Context, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.url+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	resp, err := a.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s answered %d", path, resp.StatusCode)
	}
	return json.Unmarshal(data, out)
}

const eventPage = 500

func (a *adminAPI) events(ctx context.Context, after int64) ([]auth.Event, error) {
	var body struct{ Events []auth.Event }
	err := a.get(ctx, fmt.Sprintf("/admin/events?after=%d&limit=%d", after, eventPage), &body)
	return body.Events, err
}

func (a *adminAPI) policy(ctx context.Context) (policy, error) {
	var body struct {
		AccessDenylist bool `json:"accessDenylist"`
	}
	if err := a.get(ctx, "/admin/settings", &body); err != nil {
		return policy{}, err
	}
	return policy{known: true, accessDenylist: body.AccessDenylist}, nil
}

// newestEvent is the ID of the last event in the log: this launch's
// timeline starts after it, so a persisted database's earlier runs (whose
// clocks were moved) never mix with this one.
func (a *adminAPI) newestEvent(ctx context.Context) (int64, error) {
	var last int64
	for {
		evs, err := a.events(ctx, last)
		if err != nil {
			return 0, err
		}
		if len(evs) > 0 {
			last = evs[len(evs)-1].ID
		}
		if len(evs) < eventPage {
			return last, nil
		}
	}
}

type eventsBaselineMsg struct {
	last   int64
	policy policy
	now    time.Time // a --server's clock, when the lab reads it remotely
	err    error
}

func eventsBaselineCmd(ctx context.Context, a *adminAPI, clock Clock) tea.Cmd {
	return func() tea.Msg {
		last, err := a.newestEvent(ctx)
		if err != nil {
			return eventsBaselineMsg{err: err}
		}
		var now time.Time
		if r, ok := clock.(*remoteClock); ok {
			if now, err = r.read(ctx); err != nil {
				return eventsBaselineMsg{err: err}
			}
		}
		p, err := a.policy(ctx)
		return eventsBaselineMsg{last: last, policy: p, now: now, err: err}
	}
}

// serverEventsCmd reads the server's events after the given ID, and its
// policy (another process may change it at any time).
func serverEventsCmd(ctx context.Context, a *adminAPI, after int64) tea.Cmd {
	return func() tea.Msg {
		evs, err := a.events(ctx, after)
		if err != nil {
			return serverEventMsg{err: err}
		}
		p, err := a.policy(ctx)
		return serverEventMsg{events: evs, policy: p, err: err}
	}
}

// familyView is one login's refresh-token family as /admin/sessions
// answers it: the family and its tokens, newest first.
type familyView struct {
	ID           string       `json:"id"`
	Username     string       `json:"username"`
	ClientID     string       `json:"clientId"`
	CreatedAt    time.Time    `json:"createdAt"`
	ExpiresAt    time.Time    `json:"expiresAt"`
	RevokedAt    *time.Time   `json:"revokedAt"`
	RevokeReason string       `json:"revokeReason"`
	State        string       `json:"state"`
	TokenCount   int          `json:"tokenCount"`
	Tokens       []familyNode `json:"tokens"`
}

// familyNode is one refresh token of a family.
type familyNode struct {
	JTI       string     `json:"jti"`
	ParentJTI string     `json:"parentJti"`
	IssuedAt  time.Time  `json:"issuedAt"`
	ExpiresAt time.Time  `json:"expiresAt"`
	UsedAt    *time.Time `json:"usedAt"`
	State     string     `json:"state"` // active, used, revoked or expired
}

// familyTokens is how many of a family's tokens the graph asks for: more
// rotations than a learner makes by hand; the count says when there are
// more.
const familyTokens = 200

func (a *adminAPI) family(ctx context.Context, id string) (familyView, error) {
	var body struct{ Sessions []familyView }
	if err := a.get(ctx, fmt.Sprintf("/admin/sessions?family=%s&tokens=%d", url.QueryEscape(id), familyTokens), &body); err != nil {
		return familyView{}, err
	}
	if len(body.Sessions) == 0 {
		return familyView{}, fmt.Errorf("the server has no family %s (its database was reset?)", short(id))
	}
	return body.Sessions[0], nil
}
