package config

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hookline/hookline/i18n"
	"github.com/hookline/hookline/signature"
)

// settings is the table of every configuration option.
var settings = []Setting{
	{Flag: "config", Env: "HOOKLINE_CONFIG", Default: "",
		Usage: "Path of an optional config file (flat TOML: key = \"value\" lines; keys are the flag names, with - or _).",
		set:   func(c *Config, v string) error { c.ConfigFile = v; return nil }},
	{Flag: "listen", Env: "HOOKLINE_LISTEN", Default: "127.0.0.1:8080",
		Usage: "Address the HTTP server (API, health, metrics) listens on; :0 picks a free port.",
		set:   func(c *Config, v string) error { c.Listen = v; return nil }},
	{Flag: "data-dir", Env: "HOOKLINE_DATA_DIR", Default: "./hookline-data",
		Usage: "Directory of the embedded SQLite database and the generated main key.",
		set: func(c *Config, v string) error {
			if v == "" {
				return errors.New("must not be empty")
			}
			c.DataDir = v
			return nil
		}},
	{Flag: "database-url", Env: "HOOKLINE_DATABASE_URL", Default: "",
		Usage:  "PostgreSQL URL (postgres://...) to share one database between many processes; empty uses SQLite in the data directory.",
		Secret: true,
		set: func(c *Config, v string) error {
			if v != "" && !strings.HasPrefix(v, "postgres://") && !strings.HasPrefix(v, "postgresql://") {
				return errors.New("must be a postgres:// URL")
			}
			c.DatabaseURL = v
			return nil
		}},
	{Flag: "dev", Env: "HOOKLINE_DEV", Default: "false",
		Usage: "Development mode: allows http:// and loopback or private endpoint URLs. Never in production.",
		set:   func(c *Config, v string) error { return parseBool(&c.Dev)(v) }},
	{Flag: "operator-token", Env: "HOOKLINE_OPERATOR_TOKEN", Default: "", Secret: true,
		Usage: "An operator token to accept from the first start (at least 24 characters), for automation; no token is then generated.",
		set:   func(c *Config, v string) error { c.OperatorToken = v; return nil }},
	{Flag: "main-key", Env: "HOOKLINE_MAIN_KEY", Default: "", Secret: true,
		Usage: "The 32-byte main key (base64 or hex) that encrypts signing secrets at rest; when empty, main.key in the data directory is used, and created on first start.",
		set:   func(c *Config, v string) error { c.MainKey = v; return nil }},
	{Flag: "max-body-size", Env: "HOOKLINE_MAX_BODY_SIZE", Default: "1MiB",
		Usage: "Largest accepted API request body (a message with its payload); larger ones get 413.",
		set:   func(c *Config, v string) error { return parseSize(&c.MaxBodySize)(v) }},
	{Flag: "secret-grace-period", Env: "HOOKLINE_SECRET_GRACE_PERIOD", Default: "24h",
		Usage: "How long a rotated-out endpoint secret keeps signing deliveries next to the new one.",
		set:   func(c *Config, v string) error { return parseDuration(&c.SecretGracePeriod)(v) }},
	{Flag: "allow-networks", Env: "HOOKLINE_ALLOW_NETWORKS", Default: "",
		Usage: "Comma-separated private networks (CIDR) that endpoints may point into outside dev mode, such as 10.20.0.0/16.",
		set: func(c *Config, v string) error {
			c.AllowNetworks = nil
			for _, part := range strings.Split(v, ",") {
				if part = strings.TrimSpace(part); part == "" {
					continue
				}
				p, err := netip.ParsePrefix(part)
				if err != nil {
					return errors.New("must be comma-separated CIDR networks such as 10.20.0.0/16")
				}
				c.AllowNetworks = append(c.AllowNetworks, p.Masked())
			}
			return nil
		}},
	{Flag: "log-level", Env: "HOOKLINE_LOG_LEVEL", Default: "info",
		Usage: "Log level: debug, info, warn or error.",
		set: func(c *Config, v string) error {
			switch v {
			case "debug", "info", "warn", "error":
				c.LogLevel = v
				return nil
			}
			return errors.New("must be debug, info, warn or error")
		}},
	{Flag: "log-format", Env: "HOOKLINE_LOG_FORMAT", Default: "json",
		Usage: "Log format: json (structured, for production) or text.",
		set: func(c *Config, v string) error {
			if v != "json" && v != "text" {
				return errors.New("must be json or text")
			}
			c.LogFormat = v
			return nil
		}},
	{Flag: "sqlite-synchronous", Env: "HOOKLINE_SQLITE_SYNCHRONOUS", Default: "FULL",
		Usage: "SQLite's synchronous mode: FULL survives power loss (every write is answered after an fsync of the WAL that covers it); NORMAL survives process crashes only, and saves those fsyncs.",
		set: func(c *Config, v string) error {
			v = strings.ToUpper(v)
			if v != "FULL" && v != "NORMAL" {
				return errors.New("must be FULL or NORMAL")
			}
			c.SQLiteSynchronous = v
			return nil
		}},
	{Flag: "postgres-expunge", Env: "HOOKLINE_POSTGRES_EXPUNGE", Default: "deferred",
		Usage: "How an expunge of message content removes it from PostgreSQL's files, in the background after the API answers: deferred (VACUUM FULL of each partition of messages and attempts that held the content, and of the idempotency table, once the partition takes no new rows: an earlier day's at once, the current day's or hour's after it ends; nothing waits for a copy), rewrite (the same at once, the current partitions too: inserts into them wait while they are copied) or vacuum (a plain VACUUM: no lock, but freed bytes stay in the pages until new rows overwrite them).",
		set: func(c *Config, v string) error {
			if v != "deferred" && v != "rewrite" && v != "vacuum" {
				return errors.New("must be deferred, rewrite or vacuum")
			}
			c.PostgresExpunge = v
			return nil
		}},
	{Flag: "postgres-partition-interval", Env: "HOOKLINE_POSTGRES_PARTITION_INTERVAL", Default: "daily",
		Usage: "How much time one partition of PostgreSQL's messages and attempts tables holds: daily, or hourly for tens of millions of attempts a day or more. Retention drops whole partitions, so it frees space one interval at a time; a change applies to the partitions created from then on.",
		set: func(c *Config, v string) error {
			switch v {
			case "daily":
				c.PostgresPartitionInterval = 24 * time.Hour
			case "hourly":
				c.PostgresPartitionInterval = time.Hour
			default:
				return errors.New("must be daily or hourly")
			}
			return nil
		}},
	{Flag: "shutdown-timeout", Env: "HOOKLINE_SHUTDOWN_TIMEOUT", Default: "30s",
		Usage: "How long a graceful shutdown waits for requests and in-flight deliveries to finish.",
		set:   func(c *Config, v string) error { return parseDuration(&c.ShutdownTimeout)(v) }},
	{Flag: "delivery-timeout", Env: "HOOKLINE_DELIVERY_TIMEOUT", Default: "15s",
		Usage: "How long an endpoint has to answer; no 2xx within it is a failed attempt.",
		set: func(c *Config, v string) error {
			if err := parseDuration(&c.DeliveryTimeout)(v); err != nil || c.DeliveryTimeout < 100*time.Millisecond {
				return errors.New("must be a duration of at least 100ms, such as 15s")
			}
			return nil
		}},
	{Flag: "max-response-header-size", Env: "HOOKLINE_MAX_RESPONSE_HEADER_SIZE", Default: "32KiB",
		Usage: "Largest status line and headers a receiver's response may have (HTTP/1 and HTTP/2); a longer one fails the attempt with \"response headers exceeded N bytes\".",
		set: func(c *Config, v string) error {
			if err := parseSize(&c.MaxResponseHeaderBytes)(v); err != nil || c.MaxResponseHeaderBytes < 1<<10 || c.MaxResponseHeaderBytes > 1<<20 {
				return errors.New("must be a size from 1KiB to 1MiB, such as 32KiB")
			}
			return nil
		}},
	{Flag: "transformation-budget", Env: "HOOKLINE_TRANSFORMATION_BUDGET", Default: "50ms",
		Usage: "How long one run of an endpoint's transformation may take (wall-clock time, checked every millisecond); a longer one is stopped and fails its attempt. See docs/transformations.md.",
		set: func(c *Config, v string) error {
			if err := parseDuration(&c.TransformationBudget)(v); err != nil || c.TransformationBudget < time.Millisecond || c.TransformationBudget > 10*time.Second {
				return errors.New("must be a duration from 1ms to 10s, such as 50ms")
			}
			return nil
		}},
	{Flag: "transformation-memory", Env: "HOOKLINE_TRANSFORMATION_MEMORY", Default: "64MiB",
		Usage: "How much the Go heap may allocate while one run of an endpoint's transformation runs; past it the run is stopped and fails its attempt. The count is the whole process's allocations during the run (Go counts no finer), so it bounds what the function itself allocates. See docs/transformations.md.",
		set: func(c *Config, v string) error {
			if err := parseSize(&c.TransformationMemory)(v); err != nil || c.TransformationMemory < 1<<20 || c.TransformationMemory > 1<<30 {
				return errors.New("must be a size from 1MiB to 1GiB, such as 64MiB")
			}
			return nil
		}},
	{Flag: "retry-schedule", Env: "HOOKLINE_RETRY_SCHEDULE", Default: "5s,5m,30m,2h,5h,10h,10h",
		Usage: "Comma-separated delays before each retry after a failed attempt (the first attempt is immediate); after the last, the message is exhausted at that endpoint. An event type can have its own schedule instead (PUT /api/v1/event-type/{name}/retry-schedule, docs/api.md).",
		set: func(c *Config, v string) error {
			c.RetrySchedule = nil
			for _, part := range strings.Split(v, ",") {
				if part = strings.TrimSpace(part); part == "" {
					continue
				}
				d, err := time.ParseDuration(part)
				if err != nil || d < 0 {
					return errors.New("must be comma-separated durations such as 5s,5m,30m")
				}
				c.RetrySchedule = append(c.RetrySchedule, d)
			}
			if len(c.RetrySchedule) > 50 {
				return errors.New("may hold at most 50 retries")
			}
			return nil
		}},
	{Flag: "retry-jitter", Env: "HOOKLINE_RETRY_JITTER", Default: "0.2",
		Usage: "Random spread of each retry delay, as a fraction either way (0.2 = ±20 %).",
		set: func(c *Config, v string) error {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || f < 0 || f >= 1 {
				return errors.New("must be a fraction from 0 to below 1, such as 0.2")
			}
			c.RetryJitter = f
			return nil
		}},
	{Flag: "workers", Env: "HOOKLINE_WORKERS", Default: "128",
		Usage: "Most delivery requests in flight at once, over all endpoints.",
		set:   func(c *Config, v string) error { return parseInt(&c.Workers, 1, 10000)(v) }},
	{Flag: "endpoint-concurrency", Env: "HOOKLINE_ENDPOINT_CONCURRENCY", Default: "16",
		Usage: "Most delivery requests in flight to one endpoint, so a slow endpoint cannot take every worker.",
		set:   func(c *Config, v string) error { return parseInt(&c.EndpointConcurrency, 1, 1000)(v) }},
	{Flag: "disable-after-failures", Env: "HOOKLINE_DISABLE_AFTER_FAILURES", Default: "10",
		Usage: "Disable an endpoint after this many consecutive failed attempts (that also span disable-after-period); 0 never disables.",
		set:   func(c *Config, v string) error { return parseInt(&c.DisableAfterFailures, 0, 1000000)(v) }},
	{Flag: "disable-after-period", Env: "HOOKLINE_DISABLE_AFTER_PERIOD", Default: "1h",
		Usage: "The consecutive failures must span at least this long before the endpoint is disabled.",
		set:   func(c *Config, v string) error { return parseDuration(&c.DisableAfterPeriod)(v) }},
	{Flag: "signature-profile", Env: "HOOKLINE_SIGNATURE_PROFILE", Default: "standard",
		Usage: "How deliveries are signed: a preset (standard, svix, usetix, cleartix, showpass, allfly), a JSON profile, or @path to a JSON file; see docs/signatures.md.",
		set: func(c *Config, v string) error {
			v = strings.TrimSpace(v)
			if p, ok := signature.Preset(v); ok {
				c.SignatureProfile = p
				return nil
			}
			data := []byte(v)
			if path, ok := strings.CutPrefix(v, "@"); ok {
				b, err := os.ReadFile(path)
				if err != nil {
					return err
				}
				data = b
			}
			p, err := signature.ParseProfile(data)
			if err != nil {
				return fmt.Errorf("not a preset (%s) nor a valid profile: %w", strings.Join(signature.PresetNames(), ", "), err)
			}
			c.SignatureProfile = p
			return nil
		}},
	{Flag: "retention", Env: "HOOKLINE_RETENTION", Default: "720h",
		Usage: "How long messages (payloads) and their attempts are kept; 0 keeps them forever.",
		set:   func(c *Config, v string) error { return parseDuration(&c.Retention)(v) }},
	{Flag: "poll-interval", Env: "HOOKLINE_POLL_INTERVAL", Default: "1s",
		Usage: "How often the dispatcher looks for due work when nothing wakes it (new messages wake it at once).",
		set: func(c *Config, v string) error {
			if err := parseDuration(&c.PollInterval)(v); err != nil || c.PollInterval < 10*time.Millisecond {
				return errors.New("must be a duration of at least 10ms")
			}
			return nil
		}},
	{Flag: "role", Env: "HOOKLINE_ROLE", Default: "all",
		Usage: "What this process does: all (API, dashboard and delivery), api (API and dashboard only) or worker (delivery only; serves health and metrics). Several processes with different roles can share one PostgreSQL database.",
		set: func(c *Config, v string) error {
			switch v {
			case "all", "api", "worker":
				c.Role = v
				return nil
			}
			return errors.New("must be all, api or worker")
		}},
	{Flag: "lease", Env: "HOOKLINE_LEASE", Default: "0s",
		Usage: "How long a claimed delivery stays with its process before another may take it (after a crash); 0 picks 4 x delivery-timeout + 30s.",
		set:   func(c *Config, v string) error { return parseDuration(&c.Lease)(v) }},
	{Flag: "token-rate-limit", Env: "HOOKLINE_TOKEN_RATE_LIMIT", Default: "100",
		Usage: "API requests per second allowed per application token (bursts of twice as many); over it the API answers 429. Operator tokens are not limited; 0 turns the limit off.",
		set:   func(c *Config, v string) error { return parseInt(&c.TokenRateLimit, 0, 1000000)(v) }},
	{Flag: "public-url", Env: "HOOKLINE_PUBLIC_URL", Default: "",
		Usage: "The externally visible base URL (such as https://hooks.example.com), used in customer-portal magic links and to mark dashboard cookies Secure; empty: http:// and the address the request came in on.",
		set: func(c *Config, v string) error {
			v = strings.TrimRight(strings.TrimSpace(v), "/")
			if v != "" {
				u, err := url.Parse(v)
				if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
					return errors.New("must be an http:// or https:// URL such as https://hooks.example.com")
				}
			}
			c.PublicURL = v
			return nil
		}},
	{Flag: "frame-ancestors", Env: "HOOKLINE_FRAME_ANCESTORS", Default: "'none'",
		Usage: "Who may embed the customer portal in an iframe: a CSP frame-ancestors source list such as https://app.example.com; 'none' forbids embedding. The operator dashboard is never embeddable.",
		set: func(c *Config, v string) error {
			v = strings.Join(strings.Fields(v), " ")
			if v == "" {
				v = "'none'"
			}
			for _, src := range strings.Fields(v) {
				if !validFrameSource(src) {
					return fmt.Errorf("%q is not a frame-ancestors source: use 'none', 'self' or origins such as https://app.example.com", src)
				}
			}
			c.FrameAncestors = v
			return nil
		}},
	{Flag: "session-ttl", Env: "HOOKLINE_SESSION_TTL", Default: "12h",
		Usage: "How long an operator's dashboard sign-in lasts.",
		set: func(c *Config, v string) error {
			if err := parseDuration(&c.SessionTTL)(v); err != nil || c.SessionTTL < time.Minute {
				return errors.New("must be a duration of at least 1m, such as 12h")
			}
			return nil
		}},
	{Flag: "brand-name", Env: "HOOKLINE_BRAND_NAME", Default: "Hookline",
		Usage: "The name the dashboard and the customer portal show in titles, the top bar and texts (an application's metadata brand.name overrides it in its portal).",
		set: func(c *Config, v string) error {
			if v = strings.TrimSpace(v); len(v) > 60 {
				return errors.New("must be at most 60 characters")
			}
			c.BrandName = v
			return nil
		}},
	{Flag: "brand-logo", Env: "HOOKLINE_BRAND_LOGO",
		Usage: "An image file (.svg, .png, .jpg, .webp, .gif, at most 256 KB) shown as the logo in the top bar instead of the built-in mark (metadata brand.logo, a data:image URI, overrides it).",
		set:   func(c *Config, v string) error { c.BrandLogo = strings.TrimSpace(v); return nil }},
	{Flag: "brand-favicon", Env: "HOOKLINE_BRAND_FAVICON",
		Usage: "An image file (.svg, .png, .ico, …, at most 256 KB) used as the pages' icon (metadata brand.favicon, a data:image URI, overrides it).",
		set:   func(c *Config, v string) error { c.BrandFavicon = strings.TrimSpace(v); return nil }},
	{Flag: "brand-accent", Env: "HOOKLINE_BRAND_ACCENT",
		Usage: "The accent colour of links, buttons and highlights, #rgb or #rrggbb (metadata brand.accent overrides it).",
		set: func(c *Config, v string) error {
			v = strings.TrimSpace(v)
			if v != "" && !accentColour.MatchString(v) {
				return errors.New("must be a colour such as #0a7cff")
			}
			c.BrandAccent = v
			return nil
		}},
	{Flag: "brand-font", Env: "HOOKLINE_BRAND_FONT",
		Usage: "A CSS font-family list of fonts on the viewer's device, such as \"Inter\", system-ui, sans-serif; no font is downloaded (metadata brand.font overrides it).",
		set: func(c *Config, v string) error {
			v = strings.TrimSpace(v)
			if v != "" && !fontFamily.MatchString(v) {
				return errors.New("must be a font-family list of names, commas and quotes, such as \"Inter\", system-ui, sans-serif")
			}
			c.BrandFont = v
			return nil
		}},
	{Flag: "brand-powered-by", Env: "HOOKLINE_BRAND_POWERED_BY", Default: "true",
		Usage: "Show the customer portal's \"Webhooks powered by Hookline\" line (metadata brand.poweredBy \"false\" or \"true\" overrides it).",
		set: func(c *Config, v string) error {
			var show bool
			if err := parseBool(&show)(v); err != nil {
				return err
			}
			c.BrandHidePoweredBy = !show
			return nil
		}},
	{Flag: "language", Env: "HOOKLINE_LANGUAGE", Default: "en",
		Usage: "The language of the dashboard and the customer portal (en or de) when the browser asks for none of them; a portal link's lang and the dashboard's language switch come first.",
		set: func(c *Config, v string) error {
			v = strings.TrimSpace(v)
			if !slices.Contains(i18n.Languages, v) {
				return fmt.Errorf("must be one of %s", strings.Join(i18n.Languages, ", "))
			}
			c.Language = v
			return nil
		}},
	{Flag: "strings", Env: "HOOKLINE_STRINGS",
		Usage: "A JSON file of the installation's own texts, by language and message id ({\"de\": {\"layout.signOut\": \"Abmelden\"}}), checked at start: an unknown id or language, or placeholders that differ from the message's, stop the server.",
		set:   func(c *Config, v string) error { c.Strings = strings.TrimSpace(v); return nil }},
}

// validFrameSource accepts the CSP sources that make sense for embedding: 'none', 'self' and
// http(s) origins, with an optional leading wildcard label. Anything else (quotes, semicolons,
// paths) could change the policy's meaning.
func validFrameSource(src string) bool {
	if src == "'none'" || src == "'self'" {
		return true
	}
	rest, ok := strings.CutPrefix(src, "https://")
	if !ok {
		rest, ok = strings.CutPrefix(src, "http://")
	}
	if !ok || rest == "" {
		return false
	}
	rest = strings.TrimPrefix(rest, "*.")
	for _, r := range rest {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == ':') {
			return false
		}
	}
	return true
}

var (
	accentColour = regexp.MustCompile(`^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$`)
	fontFamily   = regexp.MustCompile(`^[A-Za-z0-9 ,"'_-]{1,200}$`)
)
