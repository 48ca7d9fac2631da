package client

import (
	"io"
	"net/http"
	"slices"
)

// Transport is an http.RoundTripper that attaches the client's access
// token, refreshes it before it expires, and after the API rejects it
// refreshes once and retries the request once (when its body can be sent
// again). Any Go program can use it:
//
//	hc := &http.Client{Transport: &client.Transport{Client: c}}
//
// It only calls the client's methods; the refresh protocol itself is in
// refresh.go.
type Transport struct {
	Client *Client
	// Base sends the requests; the client's HTTP transport when nil.
	Base http.RoundTripper
}

var _ http.RoundTripper = (*Transport)(nil)

// HTTPClient returns an http.Client whose requests go through a Transport.
func (c *Client) HTTPClient() *http.Client {
	return &http.Client{Transport: &Transport{Client: c}, Timeout: c.http.Timeout}
}

func (t *Transport) base() http.RoundTripper {
	if t.Base != nil {
		return t.Base
	}
	return t.Client.baseTransport()
}

// baseTransport is what sends the client's requests.
func (c *Client) baseTransport() http.RoundTripper {
	if c.http.Transport != nil {
		return c.http.Transport
	}
	return http.DefaultTransport
}

// RoundTrip implements http.RoundTripper. It never changes req: each try
// is a clone with the token added.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	c := t.Client
	ctx := req.Context()
	if !c.MaySendTokenTo(req.URL.String()) {
		// Never hand the token to another host, such as a redirect target.
		c.emit(Event{Kind: EventTokenWithheld, Method: req.Method, URL: req.URL.Redacted(),
			Detail: "sent without the access token: this origin is neither the session's server nor an allowed API"})
		resp, err := t.base().RoundTrip(req)
		if err != nil {
			return nil, unreachable(req.URL.Scheme+"://"+req.URL.Host, err)
		}
		return resp, nil
	}
	s, gen, err := c.validSession(ctx)
	if err != nil {
		closeBody(req)
		return nil, err
	}
	seen := c.refreshAttempts()
	resp, err := t.try(req, s.AccessToken, "call the API with the access token")
	if err != nil {
		return nil, err
	}
	if !c.rejected(resp) {
		c.answered(req, resp, "")
		return resp, nil
	}
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		c.answered(req, resp, "the access token was rejected; not retried because the request body cannot be sent twice")
		return resp, nil
	}
	c.answered(req, resp, "the access token was rejected: refresh, then retry once")
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	s, _, err = c.refresh(ctx, gen, seen, "the API rejected the access token with "+resp.Status)
	if err != nil {
		return nil, err
	}
	retry := req
	if req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		retry = req.Clone(ctx)
		retry.Body = body
	}
	resp, err = t.try(retry, s.AccessToken, "retry once with the refreshed access token")
	if err == nil {
		c.answered(retry, resp, "")
	}
	return resp, err
}

// rejected reports whether an API answer refuses the access token.
func (c *Client) rejected(resp *http.Response) bool {
	return c.profile.rejects(resp.StatusCode, resp.Header)
}

// answered reports an answer, with why it matters when it does.
func (c *Client) answered(req *http.Request, resp *http.Response, detail string) {
	sent := req
	if resp.Request != nil {
		sent = resp.Request // with the Authorization header attached
	}
	c.emit(Event{Kind: EventResponse, Method: req.Method, URL: req.URL.Redacted(), Status: resp.StatusCode, Detail: detail,
		Exchange: record(sent, resp, peekBody(resp))})
}

func (t *Transport) try(req *http.Request, token, why string) (*http.Response, error) {
	c := t.Client
	r := req.Clone(req.Context())
	c.attach(r, token)
	c.emit(Event{Kind: EventRequest, Method: r.Method, URL: r.URL.Redacted(), Detail: why})
	resp, err := t.base().RoundTrip(r)
	if err != nil {
		return nil, unreachable(r.URL.Scheme+"://"+r.URL.Host, err)
	}
	if c.fromServer(r.URL) {
		c.observeDate(resp.Header) // another API's clock is not the one tokens expire by
	}
	return resp, nil
}

// attach puts the access token where the profile says it travels.
func (c *Client) attach(r *http.Request, token string) {
	if c.profile.Transport == ViaCookie {
		r.AddCookie(&http.Cookie{Name: c.profile.Cookies.Access, Value: token})
		return
	}
	r.Header.Set("Authorization", "Bearer "+token)
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// MaySendTokenTo reports whether the access token may go to rawURL's
// origin: the session's server, or an API allowed by the profile's apis.
func (c *Client) MaySendTokenTo(rawURL string) bool {
	o, err := Origin(rawURL)
	if err != nil {
		return false
	}
	return o == c.origin || slices.Contains(c.apis, o)
}
