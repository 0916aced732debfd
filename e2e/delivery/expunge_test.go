package delivery

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hookline/hookline/config"
	"github.com/hookline/hookline/internal/pgtest"
)

// TestExpungeContent expunges messages on a real server, on SQLite and on PostgreSQL: one by
// DELETE …/content, one by bulk-expunge (by eventId), and one attempt's body on its own. Then
// neither the API, the dashboard nor the database's files hold the payloads or the response
// bodies; the message with a pending retry is sent nothing more, and cannot be resent.
func TestExpungeContent(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		testExpunge(t, "")
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		testExpunge(t, pgtest.URL(t))
	})
}

// TestExpungeAllContents expunges every message of an application in a background task, on
// SQLite and PostgreSQL: the task finishes with the count, another application and a message
// sent after the task started keep their payloads, and the files hold none of the others.
func TestExpungeAllContents(t *testing.T) {
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		testExpungeAll(t, "")
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		testExpungeAll(t, pgtest.URL(t))
	})
}

func testExpungeAll(t *testing.T, dbURL string) {
	// Today's partitions are rewritten at once on PostgreSQL, not when the day is over (the
	// default, deferred, is tested in postgres/).
	e := startOn(t, dbURL, func(c *config.Config) { c.PostgresExpunge = "rewrite" })
	body := secretMarker(t, "RESPONSE")
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request, n int) { io.WriteString(w, body) })
	e.eventType("card.saved", nil)
	appID, otherID := e.app("Acme"), e.app("Other")
	ep := e.endpoint(appID, map[string]any{"url": rc.URL})
	var secrets []string
	for i := range 7 {
		s := secretMarker(t, "PAYLOAD")
		secrets = append(secrets, s)
		payload := map[string]any{"card": s}
		if i == 0 {
			filler := make([]byte, 9000)
			rand.Read(filler)
			payload["blob"] = base64.StdEncoding.EncodeToString(filler)
		}
		e.send(appID, "card.saved", payload)
	}
	keptOther := secretMarker(t, "OTHER")
	e.send(otherID, "card.saved", map[string]any{"card": keptOther})
	pollUntil(t, 10*time.Second, "seven attempts", func() bool { return len(e.attempts(appID, ep)) == 7 })

	if r := e.Do("POST", "/api/v1/app/"+appID+"/msg/expunge-all-contents", mustAppToken(t, e, appID), nil); r.Status != 403 {
		t.Fatalf("expunge-all with an application token: %d %s, want 403", r.Status, r.Body)
	}
	var task struct {
		ID        string    `json:"id"`
		Status    string    `json:"status"`
		Task      string    `json:"task"`
		UpdatedAt time.Time `json:"updatedAt"`
	}
	e.Op("POST", "/api/v1/app/"+appID+"/msg/expunge-all-contents", nil, 202).JSON(t, &task)
	if !strings.HasPrefix(task.ID, "qtask_") || task.Task != "application.purge_content" || task.UpdatedAt.IsZero() ||
		(task.Status != "running" && task.Status != "finished") {
		t.Fatalf("expunge-all answered %+v", task)
	}
	keptLater := secretMarker(t, "LATER")
	later := e.send(appID, "card.saved", map[string]any{"card": keptLater})
	var done struct {
		Status string `json:"status"`
		Data   struct {
			MessagesPurged int `json:"messagesPurged"`
		} `json:"data"`
	}
	pollUntil(t, 60*time.Second, "the task finished", func() bool {
		e.Op("GET", "/api/v1/background-task/"+task.ID, nil, 200).JSON(t, &done)
		return done.Status != "running"
	})
	if done.Status != "finished" || done.Data.MessagesPurged != 7 {
		t.Fatalf("task ended %+v, want finished with 7 messages purged", done)
	}
	var page struct {
		Data []struct {
			ID      string          `json:"id"`
			Payload json.RawMessage `json:"payload"`
		} `json:"data"`
	}
	e.Op("GET", "/api/v1/app/"+appID+"/msg?limit=50&with_content=true", nil, 200).JSON(t, &page)
	for _, m := range page.Data {
		if m.ID == later {
			if !bytes.Contains(m.Payload, []byte(keptLater)) {
				t.Errorf("the message sent after the task started lost its payload: %s", m.Payload)
			}
		} else if string(m.Payload) != `{"expired":true}` {
			t.Errorf("message %s payload = %s, want expired", m.ID, m.Payload)
		}
	}
	for _, a := range e.attempts(appID, ep) {
		if a.MsgID != later && a.Response != "EXPUNGED" {
			t.Errorf("attempt %s response = %q", a.ID, a.Response)
		}
	}
	files := e.dataFiles(t, dbURL)
	for _, s := range secrets {
		if i := files.where(s); i >= 0 {
			t.Errorf("after expunge-all the database files still hold %s (file %d)", s, i)
		}
	}
	if !files.contain(t, keptOther) || !files.contain(t, keptLater) {
		t.Error("expunge-all removed content it should have kept")
	}
}

func mustAppToken(t *testing.T, e *env, appID string) string {
	_, tok := createAppToken(t, e, appID)
	return tok
}

func secretMarker(t *testing.T, what string) string {
	var b [8]byte
	rand.Read(b[:])
	return what + "-SECRET-" + hex.EncodeToString(b[:])
}

func testExpunge(t *testing.T, dbURL string) {
	// Today's partitions are rewritten at once on PostgreSQL, not when the day is over (the
	// default, deferred, is tested in postgres/).
	e := startOn(t, dbURL, func(c *config.Config) { c.PostgresExpunge = "rewrite" })
	small, big := secretMarker(t, "PAYLOAD"), secretMarker(t, "BIGPAYLOAD")
	body, kept := secretMarker(t, "RESPONSE"), secretMarker(t, "KEPT")
	// Random filler makes the big payload span SQLite overflow pages and PostgreSQL's TOAST.
	filler := make([]byte, 12000)
	rand.Read(filler)
	bigPayload := map[string]any{"card": big, "blob": base64.StdEncoding.EncodeToString(filler)}

	// ok answers with a body that holds a secret; failing answers 500, so its deliveries wait
	// for a retry.
	ok := newReceiver(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n <= 3 { // the messages sent before the expunge
			io.WriteString(w, `{"echo":"`+body+`"}`)
		}
	})
	failing := newReceiver(t, status(500))
	e.eventType("card.saved", nil)
	appID := e.app("Acme")
	okEP := e.endpoint(appID, map[string]any{"url": ok.URL})
	failEP := e.endpoint(appID, map[string]any{"url": failing.URL})

	// m1 is sent with an Idempotency-Key: its stored response holds the payload too.
	var m1 struct {
		ID string `json:"id"`
	}
	r := e.post("/api/v1/app/"+appID+"/msg", map[string]any{"eventType": "card.saved", "payload": map[string]any{"card": small}},
		http.Header{"Idempotency-Key": {"create-m1"}})
	if r.status != 202 {
		t.Fatalf("create m1: %d %s", r.status, r.body)
	}
	json.Unmarshal(r.body, &m1)
	var m2 struct {
		ID string `json:"id"`
	}
	e.Op("POST", "/api/v1/app/"+appID+"/msg", map[string]any{"eventType": "card.saved", "eventId": "evt-big", "payload": bigPayload}, 202).JSON(t, &m2)
	m3 := e.send(appID, "card.saved", map[string]any{"note": kept})

	pollUntil(t, 10*time.Second, "the first attempts recorded", func() bool {
		return len(e.attempts(appID, okEP)) == 3 && len(e.attempts(appID, failEP)) == 3
	})
	for _, m := range []string{m1.ID, m2.ID} {
		if st := e.endpointMsgState(appID, failEP, m); st.Status != 1 || st.NextAttempt == nil {
			t.Fatalf("message %s at the failing endpoint: %+v, want pending with a retry", m, st)
		}
	}
	files := e.dataFiles(t, dbURL)
	for _, s := range []string{small, big, body, kept} {
		if !files.contain(t, s) {
			t.Fatalf("before the expunge the database files do not hold %s: the check below could not fail", s)
		}
	}

	// An application token may read but not erase.
	_, appToken := createAppToken(t, e, appID)
	if r := e.Do("DELETE", "/api/v1/app/"+appID+"/msg/"+m1.ID+"/content", appToken, nil); r.Status != 403 || r.Code() != "forbidden" {
		t.Fatalf("expunge with an application token: %d %s, want 403", r.Status, r.Body)
	}
	e.Op("DELETE", "/api/v1/app/"+appID+"/msg/"+m1.ID+"/content", nil, 204)
	var bulk struct {
		Results map[string]string `json:"results"`
	}
	e.Op("POST", "/api/v1/app/"+appID+"/msg/bulk-expunge", map[string]any{"ids": []string{"evt-big", "msg_nope", "evt-big"}}, 200).JSON(t, &bulk)
	if len(bulk.Results) != 2 || bulk.Results["evt-big"] != "expunged" || bulk.Results["msg_nope"] != "not-found" {
		t.Fatalf("bulk-expunge results = %v", bulk.Results)
	}
	// One attempt's body of m3, whose payload stays.
	var m3OK attempt
	for _, a := range e.attempts(appID, okEP) {
		if a.MsgID == m3 {
			m3OK = a
		}
	}
	e.Op("DELETE", "/api/v1/app/"+appID+"/msg/"+m3+"/attempt/"+m3OK.ID+"/content", nil, 204)

	// The API shows that the content is gone.
	for _, m := range []string{m1.ID, m2.ID} {
		var got struct {
			Payload json.RawMessage `json:"payload"`
		}
		e.Op("GET", "/api/v1/app/"+appID+"/msg/"+m, nil, 200).JSON(t, &got)
		if string(got.Payload) != `{"expired":true}` {
			t.Errorf("message %s payload = %s, want {\"expired\":true}", m, got.Payload)
		}
		var raw struct {
			Payload string `json:"payload"`
		}
		e.Op("GET", "/api/v1/app/"+appID+"/msg/"+m+"/raw", nil, 200).JSON(t, &raw)
		if raw.Payload != `{"expired":true}` {
			t.Errorf("message %s raw payload = %q", m, raw.Payload)
		}
		// Nothing more is sent: the retry is over, and a resend is refused.
		if st := e.endpointMsgState(appID, failEP, m); st.Status != 2 || st.NextAttempt != nil {
			t.Errorf("expunged message %s at the failing endpoint: %+v, want failed with no next attempt", m, st)
		}
		if r := e.Do("POST", "/api/v1/app/"+appID+"/msg/"+m+"/endpoint/"+failEP+"/resend", e.Token, nil); r.Status != 400 || r.Code() != "missing_payload" {
			t.Errorf("resend of an expunged message: %d %s, want 400 missing_payload", r.Status, r.Body)
		}
	}
	for _, ep := range []string{okEP, failEP} {
		for _, a := range e.attempts(appID, ep) {
			expunged := a.MsgID == m1.ID || a.MsgID == m2.ID || a.ID == m3OK.ID
			if expunged != (a.Response == "EXPUNGED") {
				t.Errorf("attempt %s of %s: response %q", a.ID, a.MsgID, a.Response)
			}
		}
	}
	var m3Out struct {
		Payload json.RawMessage `json:"payload"`
	}
	e.Op("GET", "/api/v1/app/"+appID+"/msg/"+m3, nil, 200).JSON(t, &m3Out)
	if !bytes.Contains(m3Out.Payload, []byte(kept)) {
		t.Errorf("m3 payload = %s, want it kept", m3Out.Payload)
	}
	// The same Idempotency-Key now creates a new message: the stored response is gone.
	r = e.post("/api/v1/app/"+appID+"/msg", map[string]any{"eventType": "card.saved", "payload": map[string]any{"n": 1}},
		http.Header{"Idempotency-Key": {"create-m1"}})
	if r.status != 202 || bytes.Contains(r.body, []byte(m1.ID)) {
		t.Errorf("repeat of m1's Idempotency-Key: %d %s, want a new message", r.status, r.body)
	}

	// When the retry would have been due, a new message reaches the failing endpoint and the
	// expunged ones do not.
	e.advanceTo(e.clock.Now().Add(time.Hour))
	m4 := e.send(appID, "card.saved", map[string]any{"n": 4})
	pollUntil(t, 10*time.Second, "m4 at the failing endpoint", func() bool {
		for _, rq := range failing.requests() {
			if rq.ID() == m4 {
				return true
			}
		}
		return false
	})
	for _, rq := range failing.requests() {
		if (rq.ID() == m1.ID || rq.ID() == m2.ID) && rq.N > 3 {
			t.Errorf("expunged message %s was sent again (request %d): %s", rq.ID(), rq.N, rq.Body)
		}
	}

	// The dashboard says so.
	dash := signInDashboard(t, e.URL, e.Token)
	page := dash.get(t, "/dashboard/apps/"+appID+"/messages/"+m1.ID)
	if !strings.Contains(page, "The payload was expunged") || strings.Contains(page, small) {
		t.Errorf("dashboard message page does not show the expunge:\n%s", page)
	}
	page = dash.get(t, "/dashboard/apps/"+appID+"/attempts/"+m3OK.ID)
	if !strings.Contains(page, "The response body was expunged") || strings.Contains(page, body) || !strings.Contains(page, kept) {
		t.Errorf("dashboard attempt page does not show the expunged body beside the kept payload:\n%s", page)
	}

	// And the database files hold none of it, once the reclaim the expunges asked for has run
	// in the background.
	pollUntil(t, 60*time.Second, "the expunged content gone from the database files", func() bool {
		files = e.dataFiles(t, dbURL)
		return files.where(small) < 0 && files.where(big) < 0 && files.where(body) < 0
	})
	for _, s := range []string{small, big, body} {
		if i := files.where(s); i >= 0 {
			t.Errorf("after the expunge the database files still hold %s (file %d of %d)", s, i, len(files.data))
		}
	}
	if !files.contain(t, kept) {
		t.Errorf("the kept payload %s is gone from the files too", kept)
	}
}

// httpResp is a response read whole.
type httpResp struct {
	status int
	body   []byte
}

// post sends a JSON POST with the operator token and extra headers.
func (e *env) post(path string, body any, h http.Header) httpResp {
	e.T.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", e.URL+path, bytes.NewReader(b))
	req.Header = h.Clone()
	req.Header.Set("Authorization", "Bearer "+e.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.T.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return httpResp{resp.StatusCode, data}
}

func createAppToken(t *testing.T, e *env, appID string) (id, token string) {
	var out struct {
		ID    string `json:"id"`
		Token string `json:"token"`
	}
	e.Op("POST", "/api/v1/token", map[string]any{"kind": "application", "appId": appID}, 201).JSON(t, &out)
	return out.ID, out.Token
}

// dbFiles is what the database keeps on disk, read after the data is flushed to it.
type dbFiles struct {
	data [][]byte
}

// where returns the index of the first file that holds s, or -1.
func (f dbFiles) where(s string) int {
	for i, d := range f.data {
		if bytes.Contains(d, []byte(s)) {
			return i
		}
	}
	return -1
}

func (f dbFiles) contain(t *testing.T, s string) bool {
	for _, d := range f.data {
		if bytes.Contains(d, []byte(s)) {
			return true
		}
	}
	return false
}

// dataFiles reads the database's files: SQLite's database and WAL files; for PostgreSQL, after
// a checkpoint, the files of the tables (and their TOAST tables) that hold message content.
func (e *env) dataFiles(t *testing.T, dbURL string) dbFiles {
	t.Helper()
	if dbURL == "" {
		var f dbFiles
		for _, name := range []string{"hookline.db", "hookline.db-wal"} {
			b, err := os.ReadFile(filepath.Join(e.Config.DataDir, name))
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			f.data = append(f.data, b)
		}
		return f
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var super bool
	if err := conn.QueryRow(ctx, `SELECT rolsuper FROM pg_roles WHERE rolname = current_user`).Scan(&super); err != nil || !super {
		if os.Getenv("CI") == "true" {
			t.Fatalf("reading PostgreSQL's files needs a superuser (%v)", err)
		}
		t.Skipf("reading PostgreSQL's files needs a superuser; %v", err)
	}
	if _, err := conn.Exec(ctx, `CHECKPOINT`); err != nil {
		t.Fatal(err)
	}
	var f dbFiles
	for _, table := range []string{"messages", "attempts", "idempotency_keys"} {
		// The table's own file, or those of its partitions (messages and attempts), and their
		// TOAST tables.
		rows, err := conn.Query(ctx, `WITH leaf AS (SELECT relid FROM pg_partition_tree($1::regclass) WHERE isleaf)
			SELECT pg_read_binary_file(pg_relation_filepath(c.oid)) FROM pg_class c
			WHERE c.oid IN (SELECT relid FROM leaf) OR c.oid IN (SELECT reltoastrelid FROM pg_class WHERE oid IN (SELECT relid FROM leaf))`, table)
		if err != nil {
			t.Fatal(err)
		}
		bs, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
		if err != nil {
			t.Fatal(err)
		}
		f.data = append(f.data, bs...)
	}
	return f
}

// dashboard is a signed-in dashboard session.
type dashboard struct {
	base string
	c    *http.Client
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func signInDashboard(t *testing.T, base, token string) *dashboard {
	jar, _ := cookiejar.New(nil)
	d := &dashboard{base: base, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	m := csrfField.FindStringSubmatch(d.get(t, "/dashboard/login"))
	if m == nil {
		t.Fatal("login page without a CSRF field")
	}
	resp, err := d.c.PostForm(base+"/dashboard/login", url.Values{"csrf": {m[1]}, "token": {token}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("dashboard sign-in: %d", resp.StatusCode)
	}
	return d
}

func (d *dashboard) get(t *testing.T, path string) string {
	t.Helper()
	resp, err := d.c.Get(d.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	return string(b)
}

// TestExpungeDuringAttempt expunges a message while its first attempt is in flight: the attempt
// completes (its request was built before) and is recorded with the body it got, its failure
// schedules a retry, and when the retry is due the dispatcher ends the delivery without a
// request: there is nothing left to send. Expunging again removes the late body.
func TestExpungeDuringAttempt(t *testing.T) {
	t.Parallel()
	e := start(t, nil)
	release := make(chan struct{})
	rc := newReceiver(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			<-release
		}
		w.WriteHeader(500)
		io.WriteString(w, "late body")
	})
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	e.eventType("card.saved", nil)
	appID := e.app("Acme")
	ep := e.endpoint(appID, map[string]any{"url": rc.URL})
	msg := e.send(appID, "card.saved", map[string]any{"card": secretMarker(t, "PAYLOAD")})
	rc.next(t, 10*time.Second)
	e.Op("DELETE", "/api/v1/app/"+appID+"/msg/"+msg+"/content", nil, 204)
	close(release)
	var retryAt time.Time
	pollUntil(t, 10*time.Second, "the failed attempt's retry scheduled", func() bool {
		for _, m := range e.endpointMsgs(appID, ep) {
			if m.ID == msg && m.Status == 1 && m.NextAttempt != nil {
				retryAt = *m.NextAttempt
				return true
			}
		}
		return false
	})
	e.advanceTo(retryAt.Add(time.Second))
	pollUntil(t, 10*time.Second, "the delivery ended", func() bool {
		e.advanceTo(retryAt.Add(time.Second))
		st := e.endpointMsgState(appID, ep, msg)
		return st.Status == 2 && st.NextAttempt == nil
	})
	if n := rc.count(); n != 1 {
		t.Errorf("the receiver got %d requests, want only the one in flight at the expunge", n)
	}
	if a := e.attempts(appID, ep); len(a) != 1 || a[0].Response != "late body" {
		t.Fatalf("attempts = %+v, want the one attempt, with the body it got", a)
	}
	e.Op("DELETE", "/api/v1/app/"+appID+"/msg/"+msg+"/content", nil, 204)
	if a := e.attempts(appID, ep); len(a) != 1 || a[0].Response != "EXPUNGED" {
		t.Errorf("attempts = %+v after a second expunge, want the body expunged", a)
	}
}
