// Package server wires Hookline together: it opens the store, runs migrations, builds the
// service, the API and the HTTP server, and shuts them down in order. cmd/hookline and the
// end-to-end tests both start Hookline through it.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/api"
	"github.com/hookline/hookline/config"
	"github.com/hookline/hookline/delivery"
	"github.com/hookline/hookline/egress"
	"github.com/hookline/hookline/postgres"
	"github.com/hookline/hookline/secrets"
	"github.com/hookline/hookline/service"
	"github.com/hookline/hookline/sqlite"
	"github.com/hookline/hookline/storecache"
	"github.com/hookline/hookline/tasks"
	"github.com/hookline/hookline/transform"
	"github.com/hookline/hookline/ui"
)

// Version is the Hookline version: set at build time with -ldflags "-X .../server.Version=...",
// or else read from the module's build information (version.go).
var Version = "dev"

// Server is a running Hookline process.
type Server struct {
	cfg    config.Config
	logger *slog.Logger
	clock  hookline.Clock
	store  hookline.Store
	// cache is the store as the API, the dashboard and the dispatcher's retry schedules see it.
	cache   *storecache.Store
	svc     *service.Service
	api     *api.API
	metrics *prometheus.Registry
	disp    *delivery.Dispatcher
	// tasks runs background tasks (recover, replays, statistics) in every role.
	tasks *tasks.Runner

	// dashboard serves the pages under /dashboard/.
	dashboard *ui.Dashboard

	// stop ends the background work (dispatcher, maintenance); bgDone closes when it has.
	stop   context.CancelFunc
	bgDone chan struct{}

	// FirstToken is the operator token created on this start because none existed; "" otherwise.
	FirstToken string

	httpServer *http.Server
	listener   net.Listener
	serveErr   chan error
}

// OpenStore opens (and migrates) the database the configuration names. Commands other than
// serve (migrate, token) use it directly.
func OpenStore(ctx context.Context, cfg *config.Config, logger *slog.Logger, clock hookline.Clock, migrate bool) (hookline.Store, error) {
	if cfg.DatabaseURL != "" {
		return openPostgres(ctx, cfg, logger, clock, migrate)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	box, err := secretBox(cfg, logger)
	if err != nil {
		return nil, err
	}
	db, err := sqlite.Open(ctx, filepath.Join(cfg.DataDir, "hookline.db"), sqlite.Options{
		SecretBox: box, Logger: logger, Synchronous: cfg.SQLiteSynchronous, Clock: clock})
	if err != nil {
		return nil, err
	}
	if migrate {
		applied, err := db.Migrate(ctx)
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("migrate: %w", err)
		}
		if len(applied) > 0 {
			logger.Info("applied migrations", "migrations", applied)
		}
	}
	return db, nil
}

// openPostgres opens (and migrates) the PostgreSQL database of cfg.DatabaseURL. Every process
// sharing it must seal secrets with the same key, so the key must come from the configuration:
// a key file generated in one process's data directory would be unknown to the others.
func openPostgres(ctx context.Context, cfg *config.Config, logger *slog.Logger, clock hookline.Clock, migrate bool) (hookline.Store, error) {
	if cfg.MainKey == "" {
		return nil, errors.New("PostgreSQL (--database-url) needs the main key in --main-key or HOOKLINE_MAIN_KEY: every process sharing the database must use the same one")
	}
	key, err := secrets.ParseKey(cfg.MainKey)
	if err != nil {
		return nil, fmt.Errorf("HOOKLINE_MAIN_KEY: %w", err)
	}
	box, err := secrets.NewBox(key)
	if err != nil {
		return nil, err
	}
	db, err := postgres.Open(ctx, cfg.DatabaseURL, postgres.Options{SecretBox: box, Logger: logger, Clock: clock,
		Expunge: postgres.ExpungeMode(cfg.PostgresExpunge), PartitionInterval: cfg.PostgresPartitionInterval})
	if err != nil {
		return nil, err
	}
	if migrate {
		applied, err := db.Migrate(ctx)
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("migrate: %w", err)
		}
		if len(applied) > 0 {
			logger.Info("applied migrations", "migrations", applied)
		}
	}
	return db, nil
}

func secretBox(cfg *config.Config, logger *slog.Logger) (*secrets.Box, error) {
	var key []byte
	if cfg.MainKey != "" {
		k, err := secrets.ParseKey(cfg.MainKey)
		if err != nil {
			return nil, fmt.Errorf("HOOKLINE_MAIN_KEY: %w", err)
		}
		key = k
	} else {
		path := filepath.Join(cfg.DataDir, "main.key")
		k, created, err := secrets.LoadOrCreateKeyFile(path)
		if err != nil {
			return nil, err
		}
		if created {
			logger.Warn("generated a new main key; back it up: without it, endpoint secrets cannot be read", "path", path)
		}
		key = k
	}
	return secrets.NewBox(key)
}

// Option changes how Open builds the server; tests use them.
type Option func(*options)

type options struct {
	clock hookline.Clock
}

// WithClock makes the server stamp and schedule everything by clock instead of the system
// clock, so tests can move time forward instead of waiting.
func WithClock(c hookline.Clock) Option { return func(o *options) { o.clock = c } }

// Open prepares a server: store, migrations, tokens, API, dispatcher. It does not listen yet.
func Open(ctx context.Context, cfg config.Config, logger *slog.Logger, opts ...Option) (*Server, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	o := options{clock: hookline.SystemClock{}}
	for _, opt := range opts {
		opt(&o)
	}
	clock := o.clock
	store, err := OpenStore(ctx, &cfg, logger, clock, true)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, logger: logger, clock: clock, store: store}
	if err := s.init(ctx); err != nil {
		store.Close()
		return nil, err
	}
	return s, nil
}

func (s *Server) init(ctx context.Context) error {
	// The API and dashboard look tokens, applications and event types up through a cache; the
	// delivery engine reads the store itself, but for the event types' retry schedules, which
	// it reads through the same cache, so a schedule set through this process's API applies at once.
	s.cache = storecache.New(s.store, nil)
	s.svc = service.New(s.cache, s.clock, service.Config{
		SecretGracePeriod: s.cfg.SecretGracePeriod,
		Egress:            s.egressPolicy(),
		Transform:         s.transformLimits(),
	}, s.logger)
	a, err := api.New(s.svc, api.Config{MaxBodyBytes: s.cfg.MaxBodySize, Version: Version, TokenRateLimit: s.cfg.TokenRateLimit, PublicURL: s.cfg.PublicURL}, s.logger)
	if err != nil {
		return err
	}
	s.api = a
	if s.dashboard, err = ui.New(s.svc, ui.Config{PublicURL: s.cfg.PublicURL, FrameAncestors: s.cfg.FrameAncestors,
		SessionTTL: s.cfg.SessionTTL, Version: Version, Brand: ui.Brand{Name: s.cfg.BrandName, LogoFile: s.cfg.BrandLogo,
			FaviconFile: s.cfg.BrandFavicon, Accent: s.cfg.BrandAccent, Font: s.cfg.BrandFont, HidePoweredBy: s.cfg.BrandHidePoweredBy},
		Language: s.cfg.Language, StringsFile: s.cfg.Strings}, s.logger); err != nil {
		return err
	}
	s.metrics = prometheus.NewRegistry()
	s.metrics.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		delivery.NewBacklogCollector(s.store))
	if db, ok := s.store.(*sqlite.DB); ok {
		s.metrics.MustRegister(newWALSyncCollector(db))
	}

	retry := delivery.DefaultRetryPolicy()
	if s.cfg.RetrySchedule != nil {
		retry.Schedule = s.cfg.RetrySchedule
	}
	retry.Jitter = s.cfg.RetryJitter
	s.disp = delivery.New(s.store, s.clock, delivery.Config{
		Workers:                s.cfg.Workers,
		EndpointConcurrency:    s.cfg.EndpointConcurrency,
		PollInterval:           s.cfg.PollInterval,
		Timeout:                s.cfg.DeliveryTimeout,
		MaxResponseHeaderBytes: s.cfg.MaxResponseHeaderBytes,
		Lease:                  s.cfg.Lease,
		Retry:                  retry,
		Schedules:              s.cache,
		Profile:                s.cfg.SignatureProfile,
		UserAgent:              "Hookline/" + Version,
		Egress:                 s.egressPolicy(),
		DisableAfterFailures:   s.cfg.DisableAfterFailures,
		DisableAfterPeriod:     s.cfg.DisableAfterPeriod,
		Transform:              s.transformLimits(),
	}, s.logger, delivery.NewMetrics(s.metrics))
	s.svc.OnWork(s.disp.Notify)
	if s.cfg.Role != RoleAPI {
		s.svc.SetHandOff(s.disp) // messages this process accepts skip the claim
	}
	s.svc.SetEndpointEvents(s.disp.Announcer())
	s.svc.SetThrottling(s.disp)
	// One SQLite database has one process: a task left running there belongs to a process that
	// is gone, so the runner takes it up at once.
	_, single := s.store.(*sqlite.DB)
	s.tasks = tasks.New(s.store, s.clock, tasks.Options{TakeOverAtStart: single}, s.logger)
	s.svc.SetTasks(s.tasks)
	// Every role announces manual enables and disables, so every role needs the internal
	// application of operational webhooks.
	if err := s.disp.Announcer().Ensure(ctx); err != nil {
		return fmt.Errorf("operational webhooks: %w", err)
	}
	// One SQLite database has one Hookline process: every lease left in it belongs to a process
	// that is gone, so its deliveries are due again at once. On PostgreSQL other processes hold
	// live leases; those of a dead process simply expire.
	if _, ok := s.store.(*sqlite.DB); ok {
		if n, err := s.store.ReleaseExpiredLeases(ctx, time.Now().Add(100*365*24*time.Hour)); err != nil {
			return fmt.Errorf("release leases: %w", err)
		} else if n > 0 {
			s.logger.Info("took back deliveries leased before the last stop", "count", n)
		}
	}
	// The first operator token is made last, when nothing else can fail before the caller
	// shows it: a token created and then lost with a failed start could never be shown again.
	if s.cfg.OperatorToken != "" {
		err := s.svc.EnsureOperatorToken(ctx, s.cfg.OperatorToken)
		if hookline.ErrorCode(err) == hookline.ECONFLICT {
			// Another process starting on the same database stored the token between our
			// look-up and our insert; looking again finds it.
			err = s.svc.EnsureOperatorToken(ctx, s.cfg.OperatorToken)
		}
		if err != nil {
			return err
		}
	} else {
		tok, err := s.svc.FirstOperatorToken(ctx)
		if err != nil {
			return fmt.Errorf("create first operator token: %w", err)
		}
		s.FirstToken = tok
	}
	return nil
}

// listener is a store that can wake this process when another one commits new deliveries
// (PostgreSQL's LISTEN/NOTIFY).
type listener interface {
	Listen(ctx context.Context, channel string, fn func()) error
}

// leaderElector is a store that can elect one process among many (PostgreSQL advisory locks).
type leaderElector interface {
	TryLeader(ctx context.Context, key int64) (release func(), ok bool, err error)
}

// maintenanceLockKey is the advisory lock key of the maintenance leader.
const maintenanceLockKey = 0x686f6f6b6c696e65 // "hookline"

// listen wakes the dispatcher whenever another process commits due work.
func (s *Server) listen(ctx context.Context) {
	l, ok := s.store.(listener)
	if !ok {
		return
	}
	// Listen reconnects by itself once it has listened; until the first LISTEN succeeds, keep
	// trying (polling covers the gap).
	for wait := time.Second; ctx.Err() == nil; wait = min(2*wait, time.Minute) {
		err := l.Listen(ctx, postgres.DeliveriesChannel, s.disp.Notify)
		if err == nil || ctx.Err() != nil {
			return
		}
		s.logger.Error("listen for new deliveries; polling meanwhile", "err", err, "retry_in", wait.String())
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
	}
}

func (s *Server) egressPolicy() egress.Policy {
	return egress.Policy{AllowHTTP: s.cfg.Dev, AllowPrivate: s.cfg.Dev, AllowNets: s.cfg.AllowNetworks}
}

// transformLimits bound each run of an endpoint's transformation, delivered or simulated.
func (s *Server) transformLimits() transform.Limits {
	return transform.Limits{CPU: s.cfg.TransformationBudget, Memory: s.cfg.TransformationMemory}
}

// The roles of a process (--role).
const (
	RoleAll    = "all"    // API, dashboard and delivery
	RoleAPI    = "api"    // API and dashboard; messages are delivered by worker processes
	RoleWorker = "worker" // delivery only, plus health and metrics
)

// Tasks returns the background task runner.
func (s *Server) Tasks() *tasks.Runner { return s.tasks }

// Dispatcher returns the delivery dispatcher.
func (s *Server) Dispatcher() *delivery.Dispatcher { return s.disp }

// startBackground runs the dispatcher and the maintenance loop until Close.
func (s *Server) startBackground() {
	ctx, cancel := context.WithCancel(context.Background())
	s.stop = cancel
	s.bgDone = make(chan struct{})
	var wg sync.WaitGroup
	run := func(f func(context.Context)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(ctx)
		}()
	}
	if s.cfg.Role != RoleAPI {
		run(func(ctx context.Context) {
			if err := s.disp.Run(ctx); err != nil {
				s.logger.Error("dispatcher stopped with an error", "err", err)
			}
		})
		run(s.listen)
	}
	run(s.maintain)
	run(s.svc.RunReclaims)
	run(func(ctx context.Context) {
		if err := s.tasks.Run(ctx); err != nil {
			s.logger.Error("background tasks stopped with an error", "err", err)
		}
	})
	go func() {
		wg.Wait()
		close(s.bgDone)
	}()
}

// maintenanceInterval is how often old data is purged.
const maintenanceInterval = time.Hour

// idempotencyKeyTTL is how long Idempotency-Key responses are remembered, as Svix does.
const idempotencyKeyTTL = 24 * time.Hour

// taskTTL is how long a finished or failed background task stays listed, as Svix keeps them.
const taskTTL = 90 * 24 * time.Hour

// payloadExpiryInterval is how often the payloads whose retention ended are expunged, between
// the full maintenance passes.
const payloadExpiryInterval = time.Minute

// maintain purges expired data: messages and attempts past the retention period, and
// idempotency keys past their lifetime, every maintenanceInterval; and every
// payloadExpiryInterval the payloads past their own retention.
func (s *Server) maintain(ctx context.Context) {
	t := time.NewTimer(time.Minute)
	defer t.Stop()
	var full time.Time // of the last full pass
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if full.IsZero() || time.Since(full) >= maintenanceInterval {
			s.MaintainOnce(ctx)
			full = time.Now()
		} else {
			s.asLeader(ctx, s.expirePayloads)
		}
		t.Reset(payloadExpiryInterval)
	}
}

// partitioner is a store whose tables are partitioned by time (PostgreSQL): the maintenance
// leader creates the partitions ahead, and Purge drops the old ones.
type partitioner interface {
	EnsurePartitions(ctx context.Context) ([]string, error)
}

// MaintainOnce runs one maintenance pass now (every maintenanceInterval otherwise), if this
// process is the maintenance leader: with several processes on one PostgreSQL database, one of
// them at a time, chosen by an advisory lock held for the run. It creates the partitions ahead,
// asks for the rewrite of the partitions that held expunged content and have closed since, and
// purges what is past its retention.
func (s *Server) MaintainOnce(ctx context.Context) {
	s.asLeader(ctx, s.purge)
}

// asLeader runs fn if this process is the maintenance leader (always, on SQLite), holding the
// advisory lock while it runs.
func (s *Server) asLeader(ctx context.Context, fn func(context.Context)) {
	if le, ok := s.store.(leaderElector); ok {
		release, leader, err := le.TryLeader(ctx, maintenanceLockKey)
		if err != nil {
			if ctx.Err() == nil {
				s.logger.Warn("maintenance leader election", "err", err)
			}
			return
		}
		defer release()
		if !leader {
			return
		}
	}
	fn(ctx)
}

// expirePayloadsBatch is how many payloads one transaction of expirePayloads expunges.
const expirePayloadsBatch = 500

// expirePayloads expunges the payloads whose own retention (payloadRetentionPeriod or
// payloadRetentionHours) has ended, a batch per transaction.
func (s *Server) expirePayloads(ctx context.Context) {
	total := 0
	for {
		n, err := s.store.ExpirePayloads(ctx, s.clock.Now(), expirePayloadsBatch)
		if err != nil {
			if ctx.Err() == nil {
				s.logger.Error("expunge payloads past their retention", "err", err)
			}
			return
		}
		total += n
		if n < expirePayloadsBatch {
			break
		}
	}
	if total > 0 {
		s.logger.Info("expunged payloads past their retention", "count", total)
	}
}

func (s *Server) purge(ctx context.Context) {
	now := s.clock.Now()
	if p, ok := s.store.(partitioner); ok {
		if _, err := p.EnsurePartitions(ctx); err != nil && ctx.Err() == nil {
			s.logger.Error("create partitions ahead", "err", err)
		}
		// The partitions that held expunged content and took new rows then (the current
		// day's) are rewritten once they take none (postgres.ExpungeDeferred): at the first
		// run after their interval ends.
		s.svc.RequestReclaim()
	}
	if s.cfg.Retention > 0 {
		n, err := s.store.Purge(ctx, now.Add(-s.cfg.Retention))
		if err != nil && ctx.Err() == nil {
			s.logger.Error("purge old messages", "err", err)
		} else if n > 0 {
			s.logger.Info("purged messages past the retention period", "count", n, "retention", s.cfg.Retention.String())
		}
	}
	s.expirePayloads(ctx)
	if n, err := s.store.PurgeTasks(ctx, now.Add(-taskTTL)); err != nil && ctx.Err() == nil {
		s.logger.Error("purge background tasks", "err", err)
	} else if n > 0 {
		s.logger.Info("purged background tasks that ended more than 90 days ago", "count", n)
	}
	if err := s.store.PurgeIdempotencyKeys(ctx, now.Add(-idempotencyKeyTTL)); err != nil && ctx.Err() == nil {
		s.logger.Error("purge idempotency keys", "err", err)
	}
}

// Service returns the server's service layer.
func (s *Server) Service() *service.Service { return s.svc }

// Store returns the server's store.
func (s *Server) Store() hookline.Store { return s.store }

// Handler returns the root HTTP handler: the API, the dashboard, health checks and metrics.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	if s.cfg.Role != RoleWorker {
		s.api.Register(mux)
		s.dashboard.Register(mux)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := s.store.Ping(ctx); err != nil {
			s.logger.Warn("not ready", "err", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "database unavailable")
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics, promhttp.HandlerOpts{}))
	return instrument(s.metrics, securityHeaders(mux))
}

// Listen opens the listening socket of addr. hookline serve calls it before Open, so that a
// port already in use stops a first start before it creates the data directory, the key, the
// database and the first operator token, which it could then never show.
func Listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return ln, nil
}

// Start listens on the configured address and serves in the background.
func (s *Server) Start() error {
	ln, err := Listen(s.cfg.Listen)
	if err != nil {
		return err
	}
	s.StartOn(ln)
	return nil
}

// StartOn serves on ln, which Listen opened, in the background. The server closes ln.
func (s *Server) StartOn(ln net.Listener) {
	s.listener = ln
	s.httpServer = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
	}
	s.serveErr = make(chan error, 1)
	go func() {
		err := s.httpServer.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.serveErr <- err
	}()
	s.startBackground()
	s.logger.Info("listening", "addr", ln.Addr().String(), "version", Version, "dev", s.cfg.Dev)
}

// Addr returns the address the server listens on.
func (s *Server) Addr() string { return s.listener.Addr().String() }

// URL returns the base URL of the server.
func (s *Server) URL() string { return "http://" + s.Addr() }

// BaseURL returns the address people reach the server at: --public-url when it is set,
// otherwise the listening address, with a wildcard host (0.0.0.0, ::) shown as loopback.
func (s *Server) BaseURL() string {
	if s.cfg.PublicURL != "" {
		return strings.TrimSuffix(s.cfg.PublicURL, "/")
	}
	addr, ok := s.listener.Addr().(*net.TCPAddr)
	if !ok {
		return s.URL()
	}
	host := addr.IP
	switch {
	case host.Equal(net.IPv4zero):
		host = net.IPv4(127, 0, 0, 1)
	case host.Equal(net.IPv6unspecified):
		host = net.IPv6loopback
	}
	return "http://" + net.JoinHostPort(host.String(), strconv.Itoa(addr.Port))
}

// Role returns the process's role (RoleAll, RoleAPI or RoleWorker).
func (s *Server) Role() string { return s.cfg.Role }

// Wait blocks until the HTTP server stops by itself (an error) or ctx ends.
func (s *Server) Wait(ctx context.Context) error {
	select {
	case err := <-s.serveErr:
		return err
	case <-ctx.Done():
		return nil
	}
}

// Close shuts down gracefully: it stops accepting requests, lets running ones finish (up to
// the shutdown timeout), then closes the store.
func (s *Server) Close() error {
	timeout := s.cfg.ShutdownTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var errs []error
	// The dispatcher and the HTTP server drain at the same time, each within the one deadline:
	// in-flight attempts finish (each within the delivery timeout) and are recorded while the
	// last API requests complete. Messages accepted meanwhile are on disk; they are delivered
	// after the restart, or by another process.
	if s.stop != nil {
		s.stop()
	}
	if s.httpServer != nil {
		if err := s.httpServer.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("http shutdown: %w", err))
		}
	}
	if s.stop != nil {
		select {
		case <-s.bgDone:
		case <-ctx.Done():
			errs = append(errs, errors.New("delivery did not stop within the shutdown timeout; its leases will expire"))
		}
	}
	if err := s.store.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close store: %w", err))
	}
	return errors.Join(errs...)
}
