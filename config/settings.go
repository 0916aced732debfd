package config

import (
	"errors"
	"net/netip"
	"strings"
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
		Usage: "PostgreSQL URL (postgres://...) to share one database between many processes; empty uses SQLite in the data directory.",
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
		Usage: "SQLite's synchronous mode: FULL survives power loss; NORMAL survives process crashes only, and is faster.",
		set: func(c *Config, v string) error {
			v = strings.ToUpper(v)
			if v != "FULL" && v != "NORMAL" {
				return errors.New("must be FULL or NORMAL")
			}
			c.SQLiteSynchronous = v
			return nil
		}},
	{Flag: "shutdown-timeout", Env: "HOOKLINE_SHUTDOWN_TIMEOUT", Default: "30s",
		Usage: "How long a graceful shutdown waits for requests and in-flight deliveries to finish.",
		set:   func(c *Config, v string) error { return parseDuration(&c.ShutdownTimeout)(v) }},
}
