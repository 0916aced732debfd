package hookline

import (
	"context"
	"time"
)

// Receiver holds how deliveries reach an endpoint beyond its URL, for receivers of large
// organisations: a client certificate (mutual TLS), a private server CA, and OAuth 2.0 client
// credentials. The zero Receiver is a plain endpoint. Stores keep it sealed under the main key
// (the client's private key and the OAuth client secret are credentials); the API never returns
// either.
type Receiver struct {
	// MTLS is the client certificate presented to receivers that ask for one.
	MTLS *ClientIdentity `json:"mtls,omitempty"`
	// ServerCA is what the receiver's certificate must chain to.
	ServerCA *ServerCA `json:"serverCa,omitempty"`
	// OAuth is the OAuth 2.0 client-credentials grant whose token each delivery carries.
	OAuth *OAuthClient `json:"oauth,omitempty"`
}

// IsZero reports whether the endpoint is plain: no client certificate, CA or OAuth.
func (r Receiver) IsZero() bool { return r.MTLS == nil && r.ServerCA == nil && r.OAuth == nil }

// ClientIdentity is a PEM certificate chain (leaf first) and its PEM private key.
type ClientIdentity struct {
	CertPEM string `json:"cert"`
	KeyPEM  string `json:"key"`
}

// ServerCA is a PEM bundle of CA certificates the receiver's certificate must chain to.
type ServerCA struct {
	PEM string `json:"pem"`
	// WithSystemRoots trusts the system's roots as well; false trusts the bundle only.
	WithSystemRoots bool `json:"withSystemRoots"`
}

// OAuth 2.0 client authentication methods (RFC 6749 section 2.3.1).
const (
	OAuthClientSecretBasic = "clientSecretBasic" // HTTP Basic with the client id and secret
	OAuthClientSecretPost  = "clientSecretPost"  // client_id and client_secret in the form body
	OAuthClientSecretJWT   = "clientSecretJwt"   // a JWT signed with the client's RSA key (RFC 7523), see OAuthJWT

	OAuthClientCredentials = "clientCredentials" // the client credentials grant (RFC 6749 section 4.4)
	OAuthRefreshTokenGrant = "refreshToken"      // a refresh token traded for access tokens (section 6)
)

// OAuthClient is an OAuth 2.0 client-credentials grant (RFC 6749 section 4.4).
type OAuthClient struct {
	TokenURL     string   `json:"tokenUrl"`
	ClientID     string   `json:"clientId"`
	ClientSecret string   `json:"clientSecret,omitempty"`
	Scopes       []string `json:"scopes,omitempty"`
	// AuthMethod is OAuthClientSecretBasic, OAuthClientSecretPost or OAuthClientSecretJWT.
	AuthMethod string `json:"authMethod"`
	// JWT signs the client assertion of OAuthClientSecretJWT.
	JWT *OAuthJWT `json:"jwt,omitempty"`
	// GrantType is OAuthClientCredentials ("" too, as stored before it existed) or
	// OAuthRefreshTokenGrant, which trades RefreshToken for access tokens; a token server that
	// rotates it answers a new one, which replaces it (delivery.Config.OnRefreshToken).
	GrantType    string `json:"grantType,omitempty"`
	RefreshToken string `json:"refreshToken,omitempty"`
	// ExtraParams are added to the token request's form body.
	ExtraParams map[string]string `json:"extraParams,omitempty"`
	// ExtraHeaders are added to the token request.
	ExtraHeaders map[string]string `json:"extraHeaders,omitempty"`
}

// OAuthJWT is how an OAuth client signs its client assertion (Svix's ClientSecretJwtParamsIn):
// a JWT (RS256) whose issuer and subject are the client id and whose audience is the token URL.
type OAuthJWT struct {
	// Key is the RSA private key, base64 of its PEM or DER form (PKCS #8 or PKCS #1), as given.
	Key string `json:"key"`
	// KeyID, when set, is the JWT header's kid.
	KeyID string `json:"keyId,omitempty"`
	// ExpirySecs is how long the assertion is valid; zero means 300 seconds.
	ExpirySecs int64 `json:"expirySecs,omitempty"`
}

// ReceiverStore keeps endpoints' Receiver settings. Endpoint reads (GetEndpoint, ListEndpoints,
// the fan-out) return them in Endpoint.Receiver; UpdateEndpoint leaves them alone.
type ReceiverStore interface {
	// UpdateEndpointReceiver calls change with the endpoint's stored Receiver settings and
	// stores what it leaves, in one transaction, so that concurrent changes of different parts
	// (the certificate, the CA, the OAuth client) do not undo each other. It sets the
	// endpoint's UpdatedAt to the clock's time and returns the settings stored and that time.
	// An error of change is returned and nothing is stored; an unknown endpoint is ENOTFOUND.
	UpdateEndpointReceiver(ctx context.Context, appID, endpointID string, change func(*Receiver) error) (Receiver, time.Time, error)
}
