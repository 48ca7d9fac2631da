package client

import (
	"slices"
	"strings"
	"testing"
)

func TestBuiltinProfiles(t *testing.T) {
	want := []string{"oauth2", "seed-cookie", "seed-json", "tokenlab"}
	if got := BuiltinProfileNames(); !slices.Equal(got, want) {
		t.Fatalf("BuiltinProfileNames = %q, want %q", got, want)
	}
	for name, p := range BuiltinProfiles() {
		t.Run(name, func(t *testing.T) {
			if p.Name != name {
				t.Errorf("Name = %q, want %q", p.Name, name)
			}
			if err := p.Validate(); err != nil {
				t.Errorf("Validate: %v", err)
			}
			got, err := ResolveProfile(name)
			if err != nil || got.Name != name {
				t.Errorf("ResolveProfile(%q) = %q, %v", name, got.Name, err)
			}
		})
	}
	// The seed's APIs answer 403 to a bad token; tokenlab and OAuth 401.
	for name, want := range map[string][]int{"tokenlab": {401}, "seed-json": {401, 403}, "seed-cookie": {401, 403}, "oauth2": {401}} {
		if got := BuiltinProfiles()[name].RejectStatuses; !slices.Equal(got, want) {
			t.Errorf("%s rejects %v, want %v", name, got, want)
		}
	}
}

func TestParseProfile(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		wantErr []string          // substrings of the error; none when empty
		check   func(Profile) any // returns what was wrong, nil when right
	}{
		{
			name: "extends keeps what is not overridden",
			yaml: "extends: seed-json\nname: mine\nfields:\n  username: login\npaths:\n  login: /signin\n",
			check: func(p Profile) any {
				want := BuiltinProfiles()["seed-json"]
				want.Name, want.Extends, want.Fields.Username, want.Paths.Login = "mine", "seed-json", "login", "/signin"
				if p.Name != want.Name || p.Dialect != want.Dialect || p.Transport != want.Transport || p.Paths != want.Paths ||
					p.Fields != want.Fields || p.Cookies != want.Cookies || !slices.Equal(p.RejectStatuses, want.RejectStatuses) {
					return p
				}
				return nil
			},
		},
		{
			name: "extends with reject_statuses replaced",
			yaml: "extends: tokenlab\nname: strict\nreject_statuses: [401, 419]\n",
			check: func(p Profile) any {
				if !slices.Equal(p.RejectStatuses, []int{401, 419}) || p.Fields.AccessToken != "accessToken" {
					return p
				}
				return nil
			},
		},
		{
			name: "extends seed-cookie switching back to bearer",
			yaml: "extends: seed-cookie\nname: c\ntransport: bearer\n",
			check: func(p Profile) any {
				if p.Transport != ViaBearer || !slices.Equal(p.RejectStatuses, []int{401, 403}) {
					return p
				}
				return nil
			},
		},
		{
			name: "fully specified oauth2",
			yaml: "name: idp\ndialect: oauth2\ntransport: bearer\nreject_statuses: [401]\noauth:\n  issuer: https://idp.example\n  client_id: cli\n  client_auth: post\n  scope: openid\n",
			check: func(p Profile) any {
				if p.Name != "idp" || p.OAuth.Issuer != "https://idp.example" || p.OAuth.ClientAuth != "post" {
					return p
				}
				return nil
			},
		},
		{
			name: "no name is custom",
			yaml: "dialect: oauth2\ntransport: bearer\nreject_statuses: [401]\n",
			check: func(p Profile) any {
				if p.Name != "custom" {
					return p.Name
				}
				return nil
			},
		},
		{name: "unknown top-level key", yaml: "extends: seed-json\nname: x\nrefresh_path: /r\n",
			wantErr: []string{"line 3", "refresh_path"}},
		{name: "unknown nested key", yaml: "extends: seed-json\nfields:\n  username: u\n  acces_token: t\n",
			wantErr: []string{"line 4", "acces_token"}},
		{name: "unknown built-in to extend", yaml: "extends: seed-xml\n",
			wantErr: []string{`unknown built-in profile "seed-xml"`, "seed-json"}},
		{name: "bad dialect", yaml: "extends: seed-json\ndialect: xml\n",
			wantErr: []string{"dialect must be json or oauth2", `"xml"`}},
		{name: "bad transport", yaml: "extends: seed-json\ntransport: pigeon\n",
			wantErr: []string{"transport must be bearer or cookie", `"pigeon"`}},
		{name: "cookie transport without cookie names", yaml: "extends: seed-json\ntransport: cookie\ncookies: {access: \"\", refresh: \"\"}\n",
			wantErr: []string{"cookies.access and cookies.refresh"}},
		{name: "no reject statuses", yaml: "dialect: oauth2\ntransport: bearer\n",
			wantErr: []string{"reject_statuses must list at least one"}},
		{name: "a 5xx reject status", yaml: "extends: seed-json\nreject_statuses: [401, 500]\n",
			wantErr: []string{"4xx", "500"}},
		{name: "a reject status that is no number", yaml: "extends: seed-json\nreject_statuses: [401, forbidden]\n",
			wantErr: []string{"line 2", "forbidden"}},
		{name: "bad client_auth", yaml: "extends: oauth2\noauth: {client_auth: jwt}\n",
			wantErr: []string{"client_auth must be basic or post", `"jwt"`}},
		{name: "json dialect missing the login path", yaml: "dialect: json\ntransport: bearer\nreject_statuses: [401]\npaths: {refresh: /r}\nfields: {username: u, password: p, access_token: a}\n",
			wantErr: []string{"paths.login is required"}},
		{name: "json dialect missing the access token field", yaml: "extends: seed-json\nfields: {access_token: \"\"}\n",
			wantErr: []string{"fields.access_token is required"}},
		{name: "empty document", yaml: "# nothing here\n",
			wantErr: []string{"empty"}},
		{name: "not YAML", yaml: "extends: seed-json\nfields: [unclosed\n",
			wantErr: []string{"line"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParseProfile([]byte(tt.yaml))
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("ParseProfile: %v", err)
				}
				if bad := tt.check(p); bad != nil {
					t.Errorf("parsed wrong: %+v", bad)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want one mentioning %q; parsed %+v", tt.wantErr, p)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}
