package api

import (
	"net/http"

	"github.com/hookline/hookline"
)

// The receiver settings of an endpoint, in Svix's shapes: a client certificate for mutual TLS
// (/mtls), a server CA (/ca), an OAuth 2.0 client (/oauth). The private key and the client
// secret are never answered.

// EndpointMtlsConfigIn is Svix's model: the PEM private key and certificate in one text.
type EndpointMtlsConfigIn struct {
	Identity string `json:"identity" required:"true" doc:"A PEM encoded private key and X.509 certificate (intermediates may follow) presented to receivers that ask for a client certificate."`
}

// EndpointMtlsConfigOut is Svix's (empty) model: the certificate and key are not answered.
type EndpointMtlsConfigOut struct{}

// EndpointMtlsOut says whether the endpoint has a client certificate.
type EndpointMtlsOut struct {
	Enabled bool                   `json:"enabled"`
	Config  *EndpointMtlsConfigOut `json:"config"`
}

// EndpointServerCaIn is Svix's model, with Hookline's trustSystemRoots.
type EndpointServerCaIn struct {
	Cert             *string `json:"cert" doc:"PEM certificates the receiver's certificate must chain to; null: the system's roots."`
	TrustSystemRoots *bool   `json:"trustSystemRoots,omitempty" doc:"Hookline extension: trust the system's roots as well as cert (default false: cert only)."`
}

// EndpointServerCaOut is Svix's model, with Hookline's trustSystemRoots.
type EndpointServerCaOut struct {
	Cert             *string `json:"cert"`
	TrustSystemRoots bool    `json:"trustSystemRoots"`
}

// EndpointOauthConfigIn is Svix's model.
type EndpointOauthConfigIn struct {
	GrantType    string                   `json:"grantType" required:"true" enum:"clientCredentials,refreshToken" doc:"clientCredentials, or refreshToken: refreshToken is traded for access tokens, and replaced by the one the token server answers when it rotates it."`
	RefreshToken *string                  `json:"refreshToken,omitempty" doc:"The refresh token of the refreshToken grant; stored sealed, never answered."`
	AuthMethod   string                   `json:"authMethod" required:"true" enum:"clientSecretBasic,clientSecretPost,clientSecretJwt" doc:"How the client authenticates to the token URL: HTTP Basic, client_id and client_secret in the body, or a JWT signed with the client's RSA key (RFC 7523's client assertion; jwtParams)."`
	JwtParams    *ClientSecretJwtParamsIn `json:"jwtParams,omitempty" doc:"The key that signs the client assertion of clientSecretJwt; stored sealed, never answered."`
	ClientID     string                   `json:"clientId" required:"true"`
	ClientSecret *string                  `json:"clientSecret" doc:"Stored sealed; never answered."`
	TokenURL     string                   `json:"tokenUrl" required:"true" doc:"The token endpoint; the same address rules as endpoint URLs apply."`
	Scopes       []string                 `json:"scopes"`
	ExtraParams  map[string]string        `json:"extraParams" doc:"Added to the token request's body."`
	ExtraHeaders map[string]string        `json:"extraHeaders" doc:"Added to the token request."`
}

// ClientSecretJwtParamsIn is Svix's model of a client assertion's key.
type ClientSecretJwtParamsIn struct {
	SecretBase64     string  `json:"secretBase64" required:"true" doc:"The RSA private key (2048 bits or more), base64 of its PEM or DER form, PKCS #8 or PKCS #1."`
	SigningAlgorithm string  `json:"signingAlgorithm" required:"true" enum:"RS256"`
	SecretID         *string `json:"secretId,omitempty" doc:"The JWT header's kid."`
	TokenExpirySecs  *int64  `json:"tokenExpirySecs,omitempty" doc:"How long the assertion is valid, 1 to 3600 seconds (default 300)."`
}

// EndpointOauthConfigOut is Svix's model: everything but the client secret.
type EndpointOauthConfigOut struct {
	GrantType    string            `json:"grantType"`
	AuthMethod   string            `json:"authMethod"`
	ClientID     string            `json:"clientId"`
	TokenURL     string            `json:"tokenUrl"`
	Scopes       []string          `json:"scopes"`
	ExtraParams  map[string]string `json:"extraParams"`
	ExtraHeaders map[string]string `json:"extraHeaders"`
}

// EndpointOauthOut says whether the endpoint has an OAuth client, and which.
type EndpointOauthOut struct {
	Enabled bool                    `json:"enabled"`
	Config  *EndpointOauthConfigOut `json:"config"`
}

func (a *API) getEndpointMTLS(w http.ResponseWriter, r *http.Request) error {
	_, ep, err := a.endpoint(r)
	if err != nil {
		return err
	}
	if ep.Receiver.MTLS == nil {
		return hookline.Errorf(hookline.ENOTFOUND, "endpoint %q has no client certificate", ep.ID)
	}
	writeJSON(w, http.StatusOK, EndpointMtlsConfigOut{})
	return nil
}

func (a *API) getEndpointMTLSConfig(w http.ResponseWriter, r *http.Request) error {
	_, ep, err := a.endpoint(r)
	if err != nil {
		return err
	}
	out := EndpointMtlsOut{Enabled: ep.Receiver.MTLS != nil}
	if out.Enabled {
		out.Config = &EndpointMtlsConfigOut{}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) setEndpointMTLS(w http.ResponseWriter, r *http.Request) error {
	var in EndpointMtlsConfigIn
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Identity == "" {
		return fieldError("body", "identity", "missing", "is required")
	}
	_, ep, err := a.endpoint(r)
	if err != nil {
		return err
	}
	if err := a.svc.SetEndpointMTLS(r.Context(), ep, in.Identity); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) deleteEndpointMTLS(w http.ResponseWriter, r *http.Request) error {
	_, ep, err := a.endpoint(r)
	if err != nil {
		return err
	}
	if err := a.svc.DeleteEndpointMTLS(r.Context(), ep); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) getEndpointServerCA(w http.ResponseWriter, r *http.Request) error {
	_, ep, err := a.endpoint(r)
	if err != nil {
		return err
	}
	var out EndpointServerCaOut
	if ca := ep.Receiver.ServerCA; ca != nil {
		out.Cert, out.TrustSystemRoots = &ca.PEM, ca.WithSystemRoots
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) setEndpointServerCA(w http.ResponseWriter, r *http.Request) error {
	var in EndpointServerCaIn
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Cert == nil && in.TrustSystemRoots != nil {
		return fieldError("body", "trustSystemRoots", "value", "applies only with a cert; without one the system's roots are used")
	}
	_, ep, err := a.endpoint(r)
	if err != nil {
		return err
	}
	if err := a.svc.SetEndpointServerCA(r.Context(), ep, in.Cert, in.TrustSystemRoots != nil && *in.TrustSystemRoots); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func oauthConfigOut(c *hookline.OAuthClient) *EndpointOauthConfigOut {
	grant := c.GrantType
	if grant == "" {
		grant = hookline.OAuthClientCredentials
	}
	return &EndpointOauthConfigOut{GrantType: grant, AuthMethod: c.AuthMethod, ClientID: c.ClientID,
		TokenURL: c.TokenURL, Scopes: c.Scopes, ExtraParams: c.ExtraParams, ExtraHeaders: c.ExtraHeaders}
}

func (a *API) getEndpointOAuth(w http.ResponseWriter, r *http.Request) error {
	_, ep, err := a.endpoint(r)
	if err != nil {
		return err
	}
	if ep.Receiver.OAuth == nil {
		return hookline.Errorf(hookline.ENOTFOUND, "endpoint %q has no OAuth configuration", ep.ID)
	}
	writeJSON(w, http.StatusOK, oauthConfigOut(ep.Receiver.OAuth))
	return nil
}

func (a *API) getEndpointOAuthConfig(w http.ResponseWriter, r *http.Request) error {
	_, ep, err := a.endpoint(r)
	if err != nil {
		return err
	}
	out := EndpointOauthOut{Enabled: ep.Receiver.OAuth != nil}
	if out.Enabled {
		out.Config = oauthConfigOut(ep.Receiver.OAuth)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) setEndpointOAuth(w http.ResponseWriter, r *http.Request) error {
	var in EndpointOauthConfigIn
	if err := decode(r, &in); err != nil {
		return err
	}
	switch in.GrantType {
	case hookline.OAuthClientCredentials, hookline.OAuthRefreshTokenGrant:
	case "":
		return fieldError("body", "grantType", "missing", "is required")
	default:
		return fieldError("body", "grantType", "value", "must be clientCredentials or refreshToken")
	}
	var jwt *hookline.OAuthJWT
	if p := in.JwtParams; p != nil {
		if p.SigningAlgorithm != "RS256" {
			return jwtParamError("signingAlgorithm", "must be RS256")
		}
		jwt = &hookline.OAuthJWT{Key: p.SecretBase64, KeyID: deref(p.SecretID)}
		if p.TokenExpirySecs != nil {
			if *p.TokenExpirySecs < 1 {
				return jwtParamError("tokenExpirySecs", "must be 1 to 3600 seconds")
			}
			jwt.ExpirySecs = *p.TokenExpirySecs
		}
	}
	_, ep, err := a.endpoint(r)
	if err != nil {
		return err
	}
	c := hookline.OAuthClient{TokenURL: in.TokenURL, ClientID: in.ClientID, Scopes: in.Scopes, AuthMethod: in.AuthMethod,
		JWT: jwt, ExtraParams: in.ExtraParams, ExtraHeaders: in.ExtraHeaders, GrantType: in.GrantType, RefreshToken: deref(in.RefreshToken)}
	if in.ClientSecret != nil {
		c.ClientSecret = *in.ClientSecret
	}
	if err := a.svc.SetEndpointOAuth(r.Context(), ep, c); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// jwtParamError is a 422 located at a member of jwtParams.
func jwtParamError(field, msg string) error {
	return &hookline.Error{Code: hookline.EINVALID, Message: "jwtParams." + field + ": " + msg,
		Fields: []hookline.FieldError{{Loc: []string{"body", "jwtParams", field}, Msg: msg, Type: "value"}}}
}

func (a *API) deleteEndpointOAuth(w http.ResponseWriter, r *http.Request) error {
	_, ep, err := a.endpoint(r)
	if err != nil {
		return err
	}
	if err := a.svc.DeleteEndpointOAuth(r.Context(), ep); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
