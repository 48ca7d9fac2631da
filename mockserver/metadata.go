package mockserver

import (
	"net/http"
	"slices"
)

// The discovery documents: OpenID Connect Discovery 1.0 §3 at
// /.well-known/openid-configuration and RFC 8414 at
// /.well-known/oauth-authorization-server. Both say the same, and only
// what the server does: a test (metadata_test.go) fetches every URL in
// them and checks each capability against a request.

// serverMetadata is both documents.
type serverMetadata struct {
	Issuer                        string   `json:"issuer"`
	AuthorizationEndpoint         string   `json:"authorization_endpoint"`
	TokenEndpoint                 string   `json:"token_endpoint"`
	UserinfoEndpoint              string   `json:"userinfo_endpoint"`
	JWKSURI                       string   `json:"jwks_uri"`
	RegistrationEndpoint          string   `json:"registration_endpoint,omitempty"`
	RevocationEndpoint            string   `json:"revocation_endpoint,omitempty"`
	IntrospectionEndpoint         string   `json:"introspection_endpoint"`
	DeviceAuthorizationEndpoint   string   `json:"device_authorization_endpoint"`
	EndSessionEndpoint            string   `json:"end_session_endpoint"`
	ScopesSupported               []string `json:"scopes_supported"`
	ResponseTypesSupported        []string `json:"response_types_supported"`
	ResponseModesSupported        []string `json:"response_modes_supported"`
	GrantTypesSupported           []string `json:"grant_types_supported"`
	CodeChallengeMethodsSupported []string `json:"code_challenge_methods_supported"`
	TokenAuthMethods              []string `json:"token_endpoint_auth_methods_supported"`
	RevocationAuthMethods         []string `json:"revocation_endpoint_auth_methods_supported,omitempty"`
	IntrospectionAuthMethods      []string `json:"introspection_endpoint_auth_methods_supported"`
	IDTokenSigningAlgs            []string `json:"id_token_signing_alg_values_supported"`
	UserinfoSigningAlgs           []string `json:"userinfo_signing_alg_values_supported,omitempty"`
	SubjectTypesSupported         []string `json:"subject_types_supported"`
	ClaimsSupported               []string `json:"claims_supported"`
	ClaimsParameterSupported      bool     `json:"claims_parameter_supported"`
	RequestParameterSupported     bool     `json:"request_parameter_supported"`
	RequestURIParameterSupported  bool     `json:"request_uri_parameter_supported"`
	IssParameterSupported         bool     `json:"authorization_response_iss_parameter_supported"`
}

// secretMethods are the client authentications at the token endpoint.
var secretMethods = []string{"none", "client_secret_basic", "client_secret_post"}

func (s *Server) metadata() serverMetadata {
	iss := s.cfg.Issuer
	introspection := []string{"client_secret_basic", "client_secret_post"}
	if s.cfg.OpenIntrospection {
		introspection = append([]string{"none"}, introspection...)
	}
	m := serverMetadata{
		Issuer:                        iss,
		AuthorizationEndpoint:         iss + "/oauth/authorize",
		TokenEndpoint:                 iss + "/oauth/token",
		UserinfoEndpoint:              iss + "/oauth/userinfo",
		JWKSURI:                       iss + "/.well-known/jwks.json",
		RevocationEndpoint:            iss + "/oauth/revoke",
		IntrospectionEndpoint:         iss + "/oauth/introspect",
		DeviceAuthorizationEndpoint:   iss + "/oauth/device_authorization",
		EndSessionEndpoint:            iss + endSessionPath,
		ScopesSupported:               []string{scopeOpenID, "profile", "email", "address", "phone"},
		ResponseTypesSupported:        []string{"code"},
		ResponseModesSupported:        []string{"query"},
		GrantTypesSupported:           allGrants,
		CodeChallengeMethodsSupported: []string{"S256"},
		TokenAuthMethods:              secretMethods,
		RevocationAuthMethods:         secretMethods,
		IntrospectionAuthMethods:      introspection,
		IDTokenSigningAlgs:            []string{idTokenAlg},
		SubjectTypesSupported:         []string{"public"},
		ClaimsSupported:               s.claimsSupported(),
		IssParameterSupported:         !s.Policy().OmitIss, // a preset may leave iss out (RFC 9207)
	}
	if s.Policy().Revocation == RevokeAbsent { // a preset without one (Entra ID, Dex)
		m.RevocationEndpoint, m.RevocationAuthMethods = "", nil
	}
	if s.Policy().PKCE == PKCEPlain {
		m.CodeChallengeMethodsSupported = []string{"S256", "plain"}
	}
	if s.registrationOn() {
		m.RegistrationEndpoint = iss + registerPath
	}
	return m
}

// claimsSupported lists the claims an ID token may carry: the protocol's,
// preferred_username, and every claim a configured user has.
func (s *Server) claimsSupported() []string {
	names := []string{"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "azp", "sid", "preferred_username"}
	protocol := len(names)
	for _, claims := range s.userClaims {
		for name := range claims {
			if !slices.Contains(names, name) {
				names = append(names, name)
			}
		}
	}
	slices.Sort(names[protocol:]) // a stable document: the map's order is random
	return names
}

func (s *Server) handleDiscovery(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, s.metadata())
	return nil
}
