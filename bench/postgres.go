package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgProbe reads what the PostgreSQL server behind --database-url spends: its processes' CPU
// time from /proc when the server runs on this machine, and the WAL it writes. Both are the
// whole server's, every database and client included: on a server other work shares, they
// count that work too.
type pgProbe struct {
	conn *pgx.Conn
	// postmaster is the server's main process, 0 when its CPU cannot be read here; cpuNote
	// then says why.
	postmaster int
	cpuNote    string
}

// pgSample is one reading of a pgProbe.
type pgSample struct {
	lsn   uint64        // pg_current_wal_lsn()
	cpu   time.Duration // the server's processes' CPU time; see serverCPU
	cpuOK bool
}

// openPGProbe connects to the database the server uses and finds the server's processes.
func openPGProbe(ctx context.Context, databaseURL string) (*pgProbe, error) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(cctx, databaseURL)
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL to read its costs: %w", err)
	}
	p := &pgProbe{conn: conn}
	if !localHost(conn.Config().Host) {
		p.cpuNote = "the server is not on this machine (" + conn.Config().Host + ")"
		return p, nil
	}
	var backend int
	if err := conn.QueryRow(cctx, `SELECT pg_backend_pid()`).Scan(&backend); err != nil {
		conn.Close(ctx)
		return nil, fmt.Errorf("PostgreSQL backend pid: %w", err)
	}
	p.postmaster, err = postmasterOf(backend)
	if err != nil {
		p.cpuNote = err.Error()
	}
	return p, nil
}

func (p *pgProbe) close() { p.conn.Close(context.Background()) }

// sample reads the WAL position and the server's CPU time.
func (p *pgProbe) sample(ctx context.Context) (pgSample, error) {
	var s pgSample
	var lsn string
	if err := p.conn.QueryRow(ctx, `SELECT pg_current_wal_lsn()::text`).Scan(&lsn); err != nil {
		return s, fmt.Errorf("read PostgreSQL's WAL position: %w", err)
	}
	// An LSN prints as two hexadecimal halves of a 64-bit byte position: "16/B374D848".
	hi, lo, ok := strings.Cut(lsn, "/")
	h, err1 := strconv.ParseUint(hi, 16, 32)
	l, err2 := strconv.ParseUint(lo, 16, 32)
	if !ok || err1 != nil || err2 != nil {
		return s, fmt.Errorf("unexpected WAL position %q", lsn)
	}
	s.lsn = h<<32 | l
	if p.postmaster != 0 {
		cpu, err := serverCPU(p.postmaster)
		if err != nil {
			p.postmaster, p.cpuNote = 0, err.Error()
		} else {
			s.cpu, s.cpuOK = cpu, true
		}
	}
	return s, nil
}

// cost returns what the server spent between two samples, per delivery when delivered > 0.
func (p *pgProbe) cost(before, after pgSample, delivered int) *PostgresCost {
	c := &PostgresCost{PostmasterPID: p.postmaster, CPUNote: p.cpuNote, WALBytes: int64(after.lsn - before.lsn)}
	if before.cpuOK && after.cpuOK {
		c.CPUSeconds = (after.cpu - before.cpu).Seconds()
	} else {
		c.PostmasterPID = 0
		if c.CPUNote == "" {
			c.CPUNote = "the server's processes could not be read"
		}
	}
	if delivered > 0 {
		c.WALBytesPerDelivery = float64(c.WALBytes) / float64(delivered)
		c.CPUPerDeliveryUs = c.CPUSeconds * 1e6 / float64(delivered)
	}
	return c
}

// localHost reports whether host (a pgx config's: a name, an address or a socket directory)
// is this machine.
func localHost(host string) bool {
	if strings.HasPrefix(host, "/") || host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// procStat holds the fields of /proc/<pid>/stat the probe uses.
type procStat struct {
	comm                         string
	ppid                         int
	utime, stime, cutime, cstime int64 // clock ticks
}

func readProcStat(pid int) (procStat, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, err
	}
	// The command name (field 2) is in parentheses and may hold spaces; field 3 comes after
	// the last closing one.
	open, end := strings.IndexByte(string(data), '('), strings.LastIndexByte(string(data), ')')
	if open < 0 || end < open {
		return procStat{}, fmt.Errorf("unexpected /proc/%d/stat", pid)
	}
	f := strings.Fields(string(data[end+1:]))
	if len(f) < 15 {
		return procStat{}, fmt.Errorf("unexpected /proc/%d/stat", pid)
	}
	s := procStat{comm: string(data[open+1 : end])}
	// f[0] is field 3 (state): ppid is field 4, utime to cstime fields 14 to 17.
	n := make([]int64, 0, 5)
	for _, i := range []int{1, 11, 12, 13, 14} {
		v, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil {
			return procStat{}, fmt.Errorf("unexpected /proc/%d/stat", pid)
		}
		n = append(n, v)
	}
	s.ppid = int(n[0])
	s.utime, s.stime, s.cutime, s.cstime = n[1], n[2], n[3], n[4]
	return s, nil
}

// postmasterOf returns the server's main process, the parent of backend: both must be
// processes named postgres on this machine.
func postmasterOf(backend int) (int, error) {
	b, err := readProcStat(backend)
	if err != nil || b.comm != "postgres" {
		return 0, errors.New("the server's backend is not a process of this machine (in a container?)")
	}
	pm, err := readProcStat(b.ppid)
	if err != nil || pm.comm != "postgres" {
		return 0, errors.New("the server's main process is not readable in /proc")
	}
	return b.ppid, nil
}

// serverCPU returns the CPU time (user and system) of the server's processes: the postmaster's
// own, that of every child alive now (backends, autovacuum, checkpointer, WAL writer, parallel
// workers), and that of the children that exited since the server started, which the kernel
// adds to the postmaster's cutime and cstime when it reaps them (at once: the postmaster waits
// for its children on SIGCHLD). So a backend that exits between two readings still counts in
// full. The children are read before the postmaster, so a child reaped in between is counted
// twice (in its own stat and in the postmaster's cutime): a window of microseconds per reading,
// against a run's seconds. A child started and ended between two readings counts through
// cutime too.
func serverCPU(postmaster int) (time.Duration, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	var ticks int64
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == postmaster {
			continue
		}
		s, err := readProcStat(pid)
		if err != nil || s.ppid != postmaster {
			continue // gone meanwhile, or not the server's
		}
		ticks += s.utime + s.stime + s.cutime + s.cstime
	}
	pm, err := readProcStat(postmaster)
	if err != nil {
		return 0, fmt.Errorf("the server's main process %d is gone: %w", postmaster, err)
	}
	ticks += pm.utime + pm.stime + pm.cutime + pm.cstime
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's times: 100 on every Linux platform Go
// supports.
const clockTicks = 100
