package main

// tuiAdminToken is the admin token of tui's --server: from
// --admin-token-file or TOKENLAB_ADMIN_TOKEN, never a plain flag (argv is
// visible to every user of the machine). --watch needs one, and a server.
func tuiAdminToken(std streams, o tuiOptions) (string, error) {
	tok := ""
	if v, ok := std.env("TOKENLAB_ADMIN_TOKEN"); ok {
		tok = v
	}
	if o.adminTokenFile != "" {
		if o.server == "" {
			return "", usagef("--admin-token-file is for a tokenlab server at --server; the embedded server needs none")
		}
		v, err := readSecretFile("--admin-token-file", o.adminTokenFile)
		if err != nil {
			return "", err
		}
		tok = v
	}
	if o.server == "" {
		tok = "" // the embedded server's own admin token is the lab's
	}
	if o.watch != "" {
		switch {
		case o.server == "":
			return "", usagef("--watch watches a client's sessions on a tokenlab server: give its URL with --server (tokenlab serve)")
		case tok == "":
			return "", usagef("--watch reads the server's admin API: give its admin token with --admin-token-file or TOKENLAB_ADMIN_TOKEN")
		case len(o.watch) > 128:
			return "", usagef("--watch takes an OAuth client id of at most 128 characters")
		}
	}
	return tok, nil
}
