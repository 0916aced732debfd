// Package config reads Hookline's settings from flags, HOOKLINE_* environment variables and an
// optional config file, in that order of precedence, over built-in defaults. Every setting is
// declared once in the table in settings.go; flags, environment names, file keys and the
// documentation in docs/configuration.md all come from it.
package config

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hookline/hookline/signature"
)

// Config is the complete configuration of a Hookline process. It is a value passed to what
// needs it, never a global.
type Config struct {
	ConfigFile        string
	Listen            string
	DataDir           string
	DatabaseURL       string
	Dev               bool
	OperatorToken     string
	MainKey           string
	MaxBodySize       int64
	SecretGracePeriod time.Duration
	AllowNetworks     []netip.Prefix
	LogLevel          string
	LogFormat         string
	SQLiteSynchronous string
	ShutdownTimeout   time.Duration
	// PostgresExpunge is how an expunge on PostgreSQL removes the old row versions: "deferred"
	// (VACUUM FULL once a partition takes no new rows), "rewrite" (VACUUM FULL at once) or
	// "vacuum".
	PostgresExpunge string
	// PostgresPartitionInterval is how much time one partition of messages and attempts holds
	// on PostgreSQL: an hour or a day.
	PostgresPartitionInterval time.Duration

	DeliveryTimeout        time.Duration
	MaxResponseHeaderBytes int64
	RetrySchedule          []time.Duration
	RetryJitter            float64
	Workers                int
	EndpointConcurrency    int
	DisableAfterFailures   int
	DisableAfterPeriod     time.Duration
	SignatureProfile       signature.Profile
	Retention              time.Duration
	PollInterval           time.Duration
	TokenRateLimit         int
	Role                   string
	Lease                  time.Duration

	// Dashboard settings.
	PublicURL      string
	FrameAncestors string
	SessionTTL     time.Duration
	// Brand* present the dashboard and the customer portal under the platform's own name.
	BrandName    string
	BrandLogo    string
	BrandFavicon string
	BrandAccent  string
	BrandFont    string
	// BrandHidePoweredBy is brand-powered-by=false: a zero Config shows the line.
	BrandHidePoweredBy bool
	// Language is the dashboard's and the portal's language when the visitor names none that
	// Hookline has; Strings is a JSON file of texts that replace the catalogue's (package i18n).
	Language string
	Strings  string

	// TransformationBudget and TransformationMemory bound each run of an endpoint's
	// transformation (the transform package).
	TransformationBudget time.Duration
	TransformationMemory int64
}

// Setting is one configuration option.
type Setting struct {
	Flag    string // the flag name, without dashes; the file key is the same
	Env     string // the environment variable
	Default string
	Usage   string
	// Secret settings are not echoed back (in errors or `hookline config`).
	Secret bool
	// FlagOnly settings have no environment variable or file key.
	set func(c *Config, v string) error
}

// Commands choose which settings they take; all commands share the storage ones.
var (
	// StorageSettings locate the data: every command that opens the database takes them.
	StorageSettings = []string{"config", "data-dir", "database-url", "main-key", "log-level", "log-format", "sqlite-synchronous"}
	// ServeSettings are the settings of `hookline serve`.
	ServeSettings = append(append([]string{}, StorageSettings...), "listen", "dev", "operator-token",
		"max-body-size", "secret-grace-period", "allow-networks", "shutdown-timeout",
		"delivery-timeout", "max-response-header-size", "retry-schedule", "retry-jitter", "workers", "endpoint-concurrency",
		"disable-after-failures", "disable-after-period", "signature-profile", "retention", "poll-interval",
		"token-rate-limit", "role", "lease", "public-url", "frame-ancestors", "session-ttl",
		"transformation-budget", "transformation-memory")
)

// Register adds the named settings to fs as flags and returns a function that, after fs.Parse,
// resolves the configuration: flag, then environment (getenv), then config file, then default.
func Register(fs *flag.FlagSet, names []string, getenv func(string) string) func() (*Config, error) {
	flagValues := map[string]*string{}
	for _, name := range names {
		s := lookup(name)
		if s == nil {
			panic("config: unknown setting " + name)
		}
		v := new(string)
		flagValues[name] = v
		if s.Flag == "dev" {
			fs.Func(s.Flag, s.Usage+" (env "+s.Env+")", func(string) error { *v = "true"; return nil })
			// Make -dev work without a value, as a boolean flag.
			fs.Lookup(s.Flag).Value = boolFlag{v}
			continue
		}
		fs.Func(s.Flag, fmt.Sprintf("%s (env %s, default %q)", s.Usage, s.Env, s.Default), func(x string) error { *v = x; return nil })
	}
	return func() (*Config, error) {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		resolved := map[string]string{}
		for _, name := range names {
			s := lookup(name)
			switch {
			case set[name]:
				resolved[name] = *flagValues[name]
			case getenv(s.Env) != "":
				resolved[name] = getenv(s.Env)
			}
		}
		c := &Config{}
		var fileValues map[string]string
		if path := resolved["config"]; path != "" {
			var err error
			if fileValues, err = readFile(path); err != nil {
				return nil, err
			}
			for k := range fileValues {
				if lookup(k) == nil {
					return nil, fmt.Errorf("config file %s: unknown setting %q", path, k)
				}
			}
		}
		for _, s := range settings {
			v, ok := resolved[s.Flag]
			if !ok {
				v, ok = fileValues[s.Flag]
			}
			if !ok {
				v = s.Default
			}
			if err := s.set(c, v); err != nil {
				shown := v
				if s.Secret {
					shown = "(hidden)"
				}
				return nil, fmt.Errorf("setting %s (--%s / %s) = %q: %w", s.Flag, s.Flag, s.Env, shown, err)
			}
		}
		return c, nil
	}
}

type boolFlag struct{ v *string }

func (b boolFlag) String() string {
	if b.v == nil {
		return ""
	}
	return *b.v
}

func (b boolFlag) Set(s string) error {
	if _, err := strconv.ParseBool(s); err != nil {
		return err
	}
	*b.v = s
	return nil
}

func (b boolFlag) IsBoolFlag() bool { return true }

func lookup(name string) *Setting {
	for i := range settings {
		if settings[i].Flag == name {
			return &settings[i]
		}
	}
	return nil
}

// Settings returns every setting, for documentation.
func Settings() []Setting { return append([]Setting(nil), settings...) }

// readFile reads a config file: flat TOML, one `key = value` per line, values quoted strings,
// numbers or booleans, `#` comments.
func readFile(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("config file %s:%d: expected key = value", path, n)
		}
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		if strings.HasPrefix(value, `"`) {
			// The quoted string may be followed by a comment, as in TOML.
			quoted, err := strconv.QuotedPrefix(value)
			if rest := strings.TrimSpace(value[len(quoted):]); err != nil || (rest != "" && !strings.HasPrefix(rest, "#")) {
				return nil, fmt.Errorf("config file %s:%d: bad quoted string", path, n)
			}
			value, _ = strconv.Unquote(quoted)
		} else if i := strings.Index(value, "#"); i >= 0 {
			value = strings.TrimSpace(value[:i])
		}
		out[strings.ReplaceAll(key, "_", "-")] = value
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	return out, nil
}

// Docs returns the Markdown table of settings that docs/configuration.md includes.
func Docs() string {
	var b strings.Builder
	b.WriteString("| flag | environment | file key | default | what it does |\n|---|---|---|---|---|\n")
	for _, s := range settings {
		def := "`" + s.Default + "`"
		if s.Default == "" {
			def = "(none)"
		}
		fmt.Fprintf(&b, "| `--%s` | `%s` | `%s` | %s | %s |\n", s.Flag, s.Env, strings.ReplaceAll(s.Flag, "-", "_"), def, s.Usage)
	}
	return b.String()
}

func parseBool(dst *bool) func(string) error {
	return func(v string) error {
		if v == "" {
			*dst = false
			return nil
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			return errors.New("must be true or false")
		}
		*dst = b
		return nil
	}
}

func parseInt(dst *int, lo, hi int) func(string) error {
	return func(v string) error {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < lo || n > hi {
			return fmt.Errorf("must be a whole number from %d to %d", lo, hi)
		}
		*dst = n
		return nil
	}
}

func parseDuration(dst *time.Duration) func(string) error {
	return func(v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return errors.New("must be a duration such as 30s, 15m or 24h")
		}
		*dst = d
		return nil
	}
}

// parseSize reads a byte count with an optional KB/MB/KiB/MiB suffix.
func parseSize(dst *int64) func(string) error {
	return func(v string) error {
		s := strings.ToUpper(strings.TrimSpace(v))
		mult := int64(1)
		for _, u := range []struct {
			suffix string
			mult   int64
		}{{"KIB", 1 << 10}, {"MIB", 1 << 20}, {"KB", 1000}, {"MB", 1000_000}, {"B", 1}} {
			if strings.HasSuffix(s, u.suffix) {
				s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
				break
			}
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			return errors.New("must be a positive size such as 1048576, 512KiB or 1MiB")
		}
		*dst = n * mult
		return nil
	}
}
