package portal

import (
	"net/url"
	"testing"
)

func TestNamesCarryTheMode(t *testing.T) {
	for _, c := range []struct {
		name              string
		readOnly, session bool
		sessionName       string
	}{
		{TokenName, false, false, SessionName},
		{ReadOnlyTokenName, true, false, ReadOnlySessionName},
		{SessionName, false, true, SessionName},
		{ReadOnlySessionName, true, true, ReadOnlySessionName},
		{"dashboard-session", false, false, SessionName},
	} {
		if got := ReadOnly(c.name); got != c.readOnly {
			t.Errorf("ReadOnly(%q) = %v", c.name, got)
		}
		if got := IsSession(c.name); got != c.session {
			t.Errorf("IsSession(%q) = %v", c.name, got)
		}
		if got := SessionNameFor(c.name); got != c.sessionName {
			t.Errorf("SessionNameFor(%q) = %q", c.name, got)
		}
	}
	if LinkNameFor(true) != ReadOnlyTokenName || LinkNameFor(false) != TokenName {
		t.Errorf("LinkNameFor: %q, %q", LinkNameFor(true), LinkNameFor(false))
	}
}

func TestLoginURLEscapesTheToken(t *testing.T) {
	got := LoginURL("https://hooks.example.com/", "portal_a+b/c", "")
	u, err := url.Parse(got)
	if err != nil {
		t.Fatal(err)
	}
	if u.Host != "hooks.example.com" || u.Path != "/dashboard/portal/login" || u.Query().Get("token") != "portal_a+b/c" {
		t.Errorf("LoginURL = %s", got)
	}
}

func TestLoginURLNamesItsLanguage(t *testing.T) {
	u, err := url.Parse(LoginURL("https://hooks.example.com", "hlp_x", "de"))
	if err != nil || u.Query().Get("lang") != "de" || u.Query().Get("token") != "hlp_x" {
		t.Errorf("LoginURL with a language = %v (%v)", u, err)
	}
}
