package signature_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/signature"
)

func TestMiddleware(t *testing.T) {
	t.Parallel()
	now := time.Unix(1781273100, 0)
	for _, name := range []string{"standard", "svix", "usetix", "cleartix"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p, _ := signature.Preset(name)
			// The handler echoes what it reads, proving the verified body reaches it intact.
			echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, err := io.ReadAll(r.Body)
				if err != nil {
					t.Errorf("handler read: %v", err)
				}
				if r.ContentLength != int64(len(b)) {
					t.Errorf("ContentLength = %d, body %d bytes", r.ContentLength, len(b))
				}
				w.Write(b)
			})
			mw := signature.Middleware(p, []string{secretB, secretA},
				signature.WithClock(fixedClock(now)), signature.WithMaxBodyBytes(4096))
			srv := httptest.NewServer(mw(echo))
			t.Cleanup(srv.Close)

			big := strings.Repeat("x", 5000)
			for _, tc := range []struct {
				name       string
				signedAt   time.Time
				signedBody string
				sentBody   string
				secret     string
				strip      bool
				wantStatus int
				wantBody   string
			}{
				{"good", now, testBody, testBody, secretA, false, http.StatusOK, testBody},
				{"good with second secret", now, testBody, testBody, secretB, false, http.StatusOK, testBody},
				{"tampered", now, testBody, testBody + "x", secretA, false, http.StatusUnauthorized, "invalid signature\n"},
				{"wrong secret", now, testBody, testBody, "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", false, http.StatusUnauthorized, "invalid signature\n"},
				{"unsigned", now, testBody, testBody, secretA, true, http.StatusUnauthorized, "missing signature headers\n"},
				{"too large", now, big, big, secretA, false, http.StatusRequestEntityTooLarge, "body too large\n"},
			} {
				req, err := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(tc.sentBody))
				if err != nil {
					t.Fatal(err)
				}
				if !tc.strip {
					if err := p.Sign(req.Header, "msg_mw", tc.signedAt, "ticket.sold", []byte(tc.signedBody), []string{tc.secret}); err != nil {
						t.Fatal(err)
					}
				}
				resp, err := srv.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				got, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil {
					t.Fatal(err)
				}
				if resp.StatusCode != tc.wantStatus || string(got) != tc.wantBody {
					t.Errorf("%s: %d %q, want %d %q", tc.name, resp.StatusCode, got, tc.wantStatus, tc.wantBody)
				}
			}
		})
	}
}

func TestMiddlewareTimestamps(t *testing.T) {
	t.Parallel()
	now := time.Unix(1781273100, 0)
	mw := signature.Middleware(signature.Standard(), []string{secretA}, signature.WithClock(fixedClock(now)), signature.WithTolerance(time.Minute))
	h := mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	for _, tc := range []struct {
		at   time.Time
		want string
	}{
		{now.Add(-2 * time.Minute), "timestamp too old\n"},
		{now.Add(2 * time.Minute), "timestamp too new\n"},
	} {
		req := httptest.NewRequest(http.MethodPost, "/hook", bytes.NewReader([]byte("{}")))
		if err := signature.Standard().Sign(req.Header, "msg_1", tc.at, "", []byte("{}"), []string{secretA}); err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnauthorized || rec.Body.String() != tc.want {
			t.Errorf("signed at %v: %d %q, want 401 %q", tc.at, rec.Code, rec.Body.String(), tc.want)
		}
	}
}

func TestMiddlewarePanicsOnBadSetUp(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		profile signature.Profile
		secrets []string
	}{
		{"invalid profile", signature.Profile{Kind: signature.KindHMACHex}, []string{secretA}},
		{"no secrets", signature.Standard(), nil},
		{"only empty secrets", signature.Standard(), []string{""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			defer func() {
				if recover() == nil {
					t.Error("Middleware did not panic")
				}
			}()
			signature.Middleware(tc.profile, tc.secrets)
		})
	}
}
