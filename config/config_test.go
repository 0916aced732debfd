package config_test

import (
	"flag"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/config"
)

// resolve parses args with the serve settings, reading the environment from env, and returns
// the configuration or the error.
func resolve(t *testing.T, args []string, env map[string]string) (*config.Config, error) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	done := config.Register(fs, config.ServeSettings, func(k string) string { return env[k] })
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	return done()
}

func mustResolve(t *testing.T, args []string, env map[string]string) *config.Config {
	t.Helper()
	c, err := resolve(t, args, env)
	if err != nil {
		t.Fatalf("resolve %v %v: %v", args, env, err)
	}
	return c
}

// writeFile writes a config file into the test's temporary directory.
func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hookline.toml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// core holds the settings these tests check. Settings that other parts of Hookline add (delivery,
// retention) have their own tests; comparing whole Configs would break with each new one.
type core struct {
	ConfigFile, Listen, DataDir, DatabaseURL string
	Dev                                      bool
	OperatorToken, MainKey                   string
	MaxBodySize                              int64
	SecretGracePeriod                        time.Duration
	AllowNetworks                            []netip.Prefix
	LogLevel, LogFormat, SQLiteSynchronous   string
	ShutdownTimeout                          time.Duration
}

func coreOf(c *config.Config) core {
	return core{c.ConfigFile, c.Listen, c.DataDir, c.DatabaseURL, c.Dev, c.OperatorToken, c.MainKey, c.MaxBodySize,
		c.SecretGracePeriod, c.AllowNetworks, c.LogLevel, c.LogFormat, c.SQLiteSynchronous, c.ShutdownTimeout}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	c := coreOf(mustResolve(t, nil, nil))
	want := core{
		Listen:            "127.0.0.1:8080",
		DataDir:           "./hookline-data",
		MaxBodySize:       1 << 20,
		SecretGracePeriod: 24 * time.Hour,
		LogLevel:          "info",
		LogFormat:         "json",
		SQLiteSynchronous: "FULL",
		ShutdownTimeout:   30 * time.Second,
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("defaults:\n got  %+v\n want %+v", c, want)
	}
}

func TestPrecedence(t *testing.T) {
	t.Parallel()
	// Each setting at each level: the file, the environment and the flag give different values.
	cases := []struct {
		flag, env                 string
		file, envVal, flagVal     string
		get                       func(*config.Config) any
		def, atFile, atEnv, atFlg any
	}{
		{"listen", "HOOKLINE_LISTEN", `"127.0.0.1:1001"`, "127.0.0.1:1002", "127.0.0.1:1003",
			func(c *config.Config) any { return c.Listen }, "127.0.0.1:8080", "127.0.0.1:1001", "127.0.0.1:1002", "127.0.0.1:1003"},
		{"log-level", "HOOKLINE_LOG_LEVEL", `"warn"`, "error", "debug",
			func(c *config.Config) any { return c.LogLevel }, "info", "warn", "error", "debug"},
		{"max-body-size", "HOOKLINE_MAX_BODY_SIZE", `"2MiB"`, "512KiB", "1000",
			func(c *config.Config) any { return c.MaxBodySize }, int64(1 << 20), int64(2 << 20), int64(512 << 10), int64(1000)},
		{"shutdown-timeout", "HOOKLINE_SHUTDOWN_TIMEOUT", `"1m"`, "10s", "2s",
			func(c *config.Config) any { return c.ShutdownTimeout }, 30 * time.Second, time.Minute, 10 * time.Second, 2 * time.Second},
		{"secret-grace-period", "HOOKLINE_SECRET_GRACE_PERIOD", `"48h"`, "1h", "90m",
			func(c *config.Config) any { return c.SecretGracePeriod }, 24 * time.Hour, 48 * time.Hour, time.Hour, 90 * time.Minute},
		{"dev", "HOOKLINE_DEV", `true`, "false", "true",
			func(c *config.Config) any { return c.Dev }, false, true, false, true},
		{"data-dir", "HOOKLINE_DATA_DIR", `"/srv/file"`, "/srv/env", "/srv/flag",
			func(c *config.Config) any { return c.DataDir }, "./hookline-data", "/srv/file", "/srv/env", "/srv/flag"},
	}
	for _, c := range cases {
		t.Run(c.flag, func(t *testing.T) {
			t.Parallel()
			file := writeFile(t, strings.ReplaceAll(c.flag, "-", "_")+" = "+c.file+"\n")
			levels := []struct {
				name string
				args []string
				env  map[string]string
				want any
			}{
				{"default", nil, nil, c.def},
				{"file", []string{"--config", file}, nil, c.atFile},
				{"env over file", []string{"--config", file}, map[string]string{c.env: c.envVal}, c.atEnv},
				{"flag over env and file", []string{"--config", file, "--" + c.flag + "=" + c.flagVal}, map[string]string{c.env: c.envVal}, c.atFlg},
				{"config file named by env", nil, map[string]string{"HOOKLINE_CONFIG": file}, c.atFile},
			}
			for _, l := range levels {
				got := c.get(mustResolve(t, l.args, l.env))
				if !reflect.DeepEqual(got, l.want) {
					t.Errorf("%s: %s = %v, want %v", l.name, c.flag, got, l.want)
				}
			}
		})
	}
}

func TestDevFlagWithoutValue(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--dev"}, {"-dev"}, {"--dev=true"}} {
		if c := mustResolve(t, args, nil); !c.Dev {
			t.Errorf("%v: dev is off", args)
		}
	}
	if c := mustResolve(t, []string{"--dev=false"}, map[string]string{"HOOKLINE_DEV": "1"}); c.Dev {
		t.Errorf("--dev=false does not win over HOOKLINE_DEV=1")
	}
	if c := mustResolve(t, nil, map[string]string{"HOOKLINE_DEV": "1"}); !c.Dev {
		t.Errorf("HOOKLINE_DEV=1 does not turn dev mode on")
	}
}

func TestFileParsing(t *testing.T) {
	t.Parallel()
	file := writeFile(t, `# Hookline configuration
   # an indented comment

listen = "0.0.0.0:9000"   # trailing comment after a quoted value
data_dir = "/var/lib/hook#line"
log-level = warn # trailing comment after a bare value
max_body_size = 65536
dev = true
allow_networks = "10.20.0.0/16, 192.168.1.7/24"
sqlite_synchronous = normal
`)
	c := coreOf(mustResolve(t, []string{"--config", file}, nil))
	want := core{
		ConfigFile:        file,
		Listen:            "0.0.0.0:9000",
		DataDir:           "/var/lib/hook#line",
		Dev:               true,
		MaxBodySize:       65536,
		SecretGracePeriod: 24 * time.Hour,
		AllowNetworks:     []netip.Prefix{netip.MustParsePrefix("10.20.0.0/16"), netip.MustParsePrefix("192.168.1.0/24")},
		LogLevel:          "warn",
		LogFormat:         "json",
		SQLiteSynchronous: "NORMAL",
		ShutdownTimeout:   30 * time.Second,
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("parsed:\n got  %+v\n want %+v", c, want)
	}

	bad := []struct {
		name, content, wantErr string
	}{
		{"unknown key", "listen = \":1\"\nlisten_adress = \":2\"\n", `unknown setting "listen-adress"`},
		{"no equals sign", "listen \":1\"\n", ":1: expected key = value"},
		{"line number", "# ok\n\nlog_level = info\nbogus line\n", ":4: expected key = value"},
		{"unterminated string", "listen = \"127.0.0.1:1\n", ":1: bad quoted string"},
		{"text after a quoted string", "listen = \"127.0.0.1:1\" 2\n", ":1: bad quoted string"},
		{"bad value in file", "shutdown_timeout = \"soon\"\n", "shutdown-timeout"},
	}
	for _, b := range bad {
		_, err := resolve(t, []string{"--config", writeFile(t, b.content)}, nil)
		if err == nil || !strings.Contains(err.Error(), b.wantErr) {
			t.Errorf("%s: error %v, want one containing %q", b.name, err, b.wantErr)
		}
	}
	if _, err := resolve(t, []string{"--config", filepath.Join(t.TempDir(), "missing.toml")}, nil); err == nil || !strings.Contains(err.Error(), "config file") {
		t.Errorf("missing config file: %v", err)
	}
}

func TestSizes(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int64{"2048": 2048, "512KiB": 512 << 10, "1MiB": 1 << 20, "1mib": 1 << 20, "3 MB": 3_000_000,
		"10KB": 10_000, "100B": 100} {
		if c := mustResolve(t, []string{"--max-body-size", in}, nil); c.MaxBodySize != want {
			t.Errorf("max-body-size %q = %d, want %d", in, c.MaxBodySize, want)
		}
	}
}

func TestBadValuesNameTheSetting(t *testing.T) {
	t.Parallel()
	cases := []struct {
		flag, env, value string
	}{
		{"max-body-size", "HOOKLINE_MAX_BODY_SIZE", "lots"},
		{"max-body-size", "HOOKLINE_MAX_BODY_SIZE", "0"},
		{"max-body-size", "HOOKLINE_MAX_BODY_SIZE", "-5MiB"},
		{"max-body-size", "HOOKLINE_MAX_BODY_SIZE", "1.5MiB"},
		{"shutdown-timeout", "HOOKLINE_SHUTDOWN_TIMEOUT", "soon"},
		{"shutdown-timeout", "HOOKLINE_SHUTDOWN_TIMEOUT", "-1s"},
		{"secret-grace-period", "HOOKLINE_SECRET_GRACE_PERIOD", "30"},
		{"allow-networks", "HOOKLINE_ALLOW_NETWORKS", "10.0.0.0/99"},
		{"allow-networks", "HOOKLINE_ALLOW_NETWORKS", "10.0.0.0/8,banana"},
		{"allow-networks", "HOOKLINE_ALLOW_NETWORKS", "10.0.0.1"},
		{"log-level", "HOOKLINE_LOG_LEVEL", "loud"},
		{"log-level", "HOOKLINE_LOG_LEVEL", "INFO "},
		{"log-format", "HOOKLINE_LOG_FORMAT", "xml"},
		{"sqlite-synchronous", "HOOKLINE_SQLITE_SYNCHRONOUS", "OFF"},
		{"dev", "HOOKLINE_DEV", "maybe"},
		{"database-url", "HOOKLINE_DATABASE_URL", "mysql://root:hunter2@db/hookline"},
		{"data-dir", "HOOKLINE_DATA_DIR", ""},
	}
	for _, c := range cases {
		t.Run(c.flag+"="+c.value, func(t *testing.T) {
			t.Parallel()
			// Through the environment, the error names the flag and the variable.
			if c.value != "" {
				_, err := resolve(t, nil, map[string]string{c.env: c.value})
				if err == nil {
					t.Fatalf("%s=%q accepted", c.env, c.value)
				}
				if !strings.Contains(err.Error(), "--"+c.flag) || !strings.Contains(err.Error(), c.env) {
					t.Errorf("error %q does not name --%s and %s", err, c.flag, c.env)
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Errorf("error shows a secret setting's value: %q", err)
				}
			}
			// Through the flag too (the dev flag is a boolean: its parse error comes from the flag package).
			_, err := resolve(t, []string{"--" + c.flag + "=" + c.value}, nil)
			if err == nil {
				t.Fatalf("--%s=%q accepted", c.flag, c.value)
			}
			if !strings.Contains(err.Error(), c.flag) {
				t.Errorf("error %q does not name %s", err, c.flag)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error shows a secret setting's value: %q", err)
			}
		})
	}
}

func TestRegisterUnknownSettingPanics(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Error("Register with an unknown setting name did not panic")
		}
	}()
	config.Register(flag.NewFlagSet("x", flag.ContinueOnError), []string{"no-such-setting"}, os.Getenv)
}

func TestEverySettingIsDocumented(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, s := range config.Settings() {
		if s.Flag == "" || s.Env == "" || s.Usage == "" {
			t.Errorf("setting %+v lacks a flag, env name or usage", s)
		}
		if want := "HOOKLINE_" + strings.ToUpper(strings.ReplaceAll(s.Flag, "-", "_")); s.Env != want {
			t.Errorf("setting %s: env %s, want %s", s.Flag, s.Env, want)
		}
		if seen[s.Flag] {
			t.Errorf("setting %s declared twice", s.Flag)
		}
		seen[s.Flag] = true
	}
	for _, name := range config.ServeSettings {
		if !seen[name] {
			t.Errorf("ServeSettings names %s, which is not a setting", name)
		}
	}
}

// update rewrites the settings table of docs/configuration.md from config.Docs():
//
//	go test ./config -run TestConfigurationDoc -update
var update = flag.Bool("update", false, "rewrite the settings table in docs/configuration.md")

const (
	docPath    = "../docs/configuration.md"
	tableBegin = "<!-- BEGIN SETTINGS"
	tableEnd   = "<!-- END SETTINGS -->"
)

// TestConfigurationDoc checks that docs/configuration.md holds exactly the table config.Docs()
// makes, so the documentation cannot fall behind the settings. When a setting is added or
// changed, regenerate the table with
//
//	go test ./config -run TestConfigurationDoc -update
func TestConfigurationDoc(t *testing.T) {
	data, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatalf("read the configuration doc: %v", err)
	}
	doc := string(data)
	begin := strings.Index(doc, tableBegin)
	end := strings.Index(doc, tableEnd)
	if begin < 0 || end < begin {
		t.Fatalf("%s lacks the %q ... %q markers around the settings table", docPath, tableBegin, tableEnd)
	}
	begin += strings.Index(doc[begin:], "\n") + 1 // the table starts on the line after the marker
	table := config.Docs()
	if *update {
		doc = doc[:begin] + table + doc[end:]
		if err := os.WriteFile(docPath, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if got := doc[begin:end]; got != table {
		t.Errorf("the settings table in %s differs from config.Docs(); regenerate it with\n\tgo test ./config -run TestConfigurationDoc -update\n got:\n%s\nwant:\n%s", docPath, got, table)
	}
	for _, s := range config.Settings() {
		if !strings.Contains(doc, "`--"+s.Flag+"`") || !strings.Contains(doc, "`"+s.Env+"`") {
			t.Errorf("%s does not mention --%s and %s", docPath, s.Flag, s.Env)
		}
	}

	// The example config file in the doc is valid.
	_, example, ok := strings.Cut(doc, "```toml\n")
	example, _, ok2 := strings.Cut(example, "```")
	if !ok || !ok2 {
		t.Fatalf("%s has no ```toml example", docPath)
	}
	c := mustResolve(t, []string{"--config", writeFile(t, example)}, nil)
	if c.Listen != "0.0.0.0:8080" || c.DataDir != "/var/lib/hookline" || len(c.AllowNetworks) != 1 {
		t.Errorf("the example config file resolves to %+v", coreOf(c))
	}
}
