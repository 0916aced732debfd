package dashboard

import (
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hookline/hookline/config"
	"github.com/hookline/hookline/internal/testserver"
)

// chartBars reads the bars of the page's deliveries chart, as their titles say: the numbers
// delivered and failed, summed over the bars.
func (b *tab) chartBars() (ok, fail, bars int) {
	b.t.Helper()
	ctx, cancel := b.timeout()
	defer cancel()
	titles, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('svg[data-chart="deliveries"] g.bar > title')).map(function (t) { return t.textContent; })`))
	if err != nil {
		b.t.Fatalf("read the chart: %v", err)
	}
	for _, title := range titles {
		_, counts, found := strings.Cut(title, " UTC: ")
		var o, f int
		if _, err := fmt.Sscanf(counts, "%d delivered, %d failed", &o, &f); !found || err != nil {
			b.t.Fatalf("chart bar title %q", title)
		}
		ok, fail = ok+o, fail+f
	}
	return ok, fail, len(titles)
}

// nearestRank is the q-th percentile of values by the nearest-rank method.
func nearestRank(values []int64, q float64) int64 {
	values = slices.Clone(values)
	slices.Sort(values)
	return values[int(math.Ceil(q*float64(len(values))))-1]
}

// TestDeliveryCharts makes known attempts (six delivered to one endpoint, four failed at
// another) and reads them back from the charts in Chromium: per endpoint with latency
// percentiles that match the attempts' recorded durations, per application, in every range,
// and as the health column of the endpoints table.
func TestDeliveryCharts(t *testing.T) {
	chromium := findChromium(t)
	srv := testserver.Start(t, testserver.Options{Configure: func(c *config.Config) {
		c.RetrySchedule = []time.Duration{time.Hour} // one attempt per delivery during the test
	}})
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if r.URL.Path == "/bad" {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		io.WriteString(w, `{"ok":true}`)
	}))
	t.Cleanup(rc.Close)
	createEventTypes(t, srv)
	appID := createApp(t, srv, "Cool Events GmbH", "cool-events")
	billing := createEndpoint(t, srv, appID, rc.URL+"/ok", "Billing sync")
	var ep struct{ ID string }
	srv.Op("POST", "/api/v1/app/"+appID+"/endpoint", map[string]any{"url": rc.URL + "/bad", "description": "CRM",
		"filterTypes": []string{"order.paid"}}, 201).JSON(t, &ep)
	crm := ep.ID
	for i := 0; i < 6; i++ {
		typ := "order.paid"
		if i >= 4 {
			typ = "order.refunded"
		}
		srv.Op("POST", "/api/v1/app/"+appID+"/msg", map[string]any{"eventType": typ, "payload": map[string]any{"action": typ}}, 202)
	}
	durations := func(epID string, n int) []int64 {
		deadline := time.Now().Add(15 * time.Second)
		for {
			var list struct {
				Data []struct {
					ResponseDurationMs int64 `json:"responseDurationMs"`
				} `json:"data"`
			}
			srv.Op("GET", "/api/v1/app/"+appID+"/attempt/endpoint/"+epID+"?limit=100", nil, 200).JSON(t, &list)
			if len(list.Data) == n {
				var out []int64
				for _, a := range list.Data {
					out = append(out, a.ResponseDurationMs)
				}
				return out
			}
			if len(list.Data) > n || time.Now().After(deadline) {
				t.Fatalf("endpoint %s has %d attempts, want %d", epID, len(list.Data), n)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	billingMs, crmMs := durations(billing, 6), durations(crm, 4)

	b := newBrowser(t, chromium)
	b.open(srv.URL + "/dashboard/login")
	b.do(chromedp.SendKeys(chromedp.Search("#token"), srv.Token))
	b.click(`//button[normalize-space()="Sign in"]`)
	appURL := srv.URL + "/dashboard/apps/" + appID

	for _, tc := range []struct {
		name, ep string
		ok, fail int
		ms       []int64
		rate     string
	}{
		{"Billing sync", billing, 6, 0, billingMs, "100%"},
		{"CRM", crm, 0, 4, crmMs, "0%"},
	} {
		page := appURL + "/endpoints/" + tc.ep
		for _, r := range []struct {
			key  string
			bars int
		}{{"1h", 12}, {"24h", 24}, {"7d", 28}, {"30d", 30}} {
			b.open(page + "?range=" + r.key)
			ok, fail, bars := b.chartBars()
			if ok != tc.ok || fail != tc.fail || bars != r.bars {
				t.Errorf("%s, range %s: the chart's bars add up to %d delivered and %d failed in %d bars, want %d, %d in %d",
					tc.name, r.key, ok, fail, bars, tc.ok, tc.fail, r.bars)
			}
			sum := b.text("#chart-summary")
			if want := fmt.Sprintf("%d delivered · %d failed · %s of attempts delivered", tc.ok, tc.fail, tc.rate); !strings.Contains(sum, want) {
				t.Errorf("%s, range %s: summary %q, want %q", tc.name, r.key, sum, want)
			}
			p50, p95 := b.text("#p50"), b.text("#p95")
			if want := fmt.Sprintf("%d ms", nearestRank(tc.ms, 0.5)); p50 != want {
				t.Errorf("%s, range %s: p50 %q, want %q (durations %v)", tc.name, r.key, p50, want, tc.ms)
			}
			if want := fmt.Sprintf("%d ms", nearestRank(tc.ms, 0.95)); p95 != want {
				t.Errorf("%s, range %s: p95 %q, want %q (durations %v)", tc.name, r.key, p95, want, tc.ms)
			}
			if n := b.count(`svg[data-chart="latency"] circle`); n < 2 {
				t.Errorf("%s, range %s: the latency chart has %d points, want p50 and p95 of at least one period", tc.name, r.key, n)
			}
		}
	}
	// The range links are plain links that keep the range in the address.
	b.open(appURL + "/endpoints/" + billing)
	b.shot("endpoint-charts")
	b.click(`//nav[@aria-label="Period"]/a[normalize-space()="Last 7 days"]`)
	if loc := b.location(); !strings.Contains(loc, "range=7d") {
		t.Errorf("the 7-day link leads to %s", loc)
	}

	// The application: both endpoints together, and each one's health in the table.
	b.open(appURL)
	if ok, fail, _ := b.chartBars(); ok != 6 || fail != 4 {
		t.Errorf("application chart: %d delivered, %d failed, want 6 and 4", ok, fail)
	}
	if sum := b.text("#chart-summary"); !strings.Contains(sum, "6 delivered · 4 failed · 60% of attempts delivered") {
		t.Errorf("application chart summary %q", sum)
	}
	for name, want := range map[string]string{"Billing sync": "100%", "CRM": "0%"} {
		row := `//table[@id="endpoints"]//tr[.//a[normalize-space()="` + name + `"]]`
		if got := b.text(row + `//span[@class="health-rate"]`); got != want {
			t.Errorf("endpoints table: %s's success rate %q, want %q", name, got, want)
		}
	}
	if got := b.attr(`span.health-bad`, "title"); got != "Last 24 hours: 0 delivered, 4 failed" {
		t.Errorf("the failing endpoint's health is not marked, or says %q", got)
	}
	b.shot("endpoints-health")
}
