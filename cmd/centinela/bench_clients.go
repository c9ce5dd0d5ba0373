package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/centinela-gcs/centinela/cmd/centinela/server"
	"github.com/centinela-gcs/centinela/internal/procstat"
)

// With --sim-process the bench's clients (the WebSocket clients and the
// gRPC stream) run in a child process too, as a deployment's browsers and
// API clients run on machines of their own: their CPU is then not the
// server's, and their goroutines do not compete with the server's for its
// Go scheduler. The child is "centinela bench" again with benchClientsEnv
// set. It reads its loadTargets as one JSON line on standard input, answers
// "ready" (or "error MESSAGE") once every client is connected, then writes
// a line for every probe position a client receives:
//
//	w CLIENT LAT UNIXNANO   a WebSocket client's
//	g LAT UNIXNANO          the gRPC stream's
//
// and, for each line "stats" it reads, "s JSON" (loadStats without the
// CPU, which the bench reads from /proc). It stops its clients and exits
// when its standard input ends.

// benchClientsEnv, set to "1", makes "centinela bench" the bench's client
// process.
const benchClientsEnv = "CENTINELA_BENCH_CLIENTS"

// runBenchClients is the client process: it serves the protocol above on
// in and out.
func runBenchClients(ctx context.Context, in io.Reader, out io.Writer, log *slog.Logger) error {
	r := bufio.NewReader(in)
	line, err := r.ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("bench clients: read targets: %w", err)
	}
	var t loadTargets
	if err := json.Unmarshal(line, &t); err != nil {
		return fmt.Errorf("bench clients: targets: %w", err)
	}
	var mu sync.Mutex
	w := bufio.NewWriter(out)
	emit := func(b []byte) {
		mu.Lock()
		_, _ = w.Write(b)
		_ = w.Flush()
		mu.Unlock()
	}
	record := func(ws bool, client int, lat float64, at time.Time) {
		var b []byte
		if ws {
			b = append(b, "w "...)
			b = strconv.AppendInt(b, int64(client), 10)
			b = append(b, ' ')
		} else {
			b = append(b, "g "...)
		}
		b = strconv.AppendFloat(b, lat, 'f', -1, 64)
		b = append(b, ' ')
		b = strconv.AppendInt(b, at.UnixNano(), 10)
		emit(append(b, '\n'))
	}
	load, err := startBenchLoad(ctx, t, record, log)
	if err != nil {
		emit([]byte("error " + strings.ReplaceAll(err.Error(), "\n", " ") + "\n"))
		return err
	}
	defer load.close()
	emit([]byte("ready\n"))
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return nil // the bench is done
		}
		if strings.TrimSpace(line) != "stats" {
			continue
		}
		b, err := json.Marshal(load.stats())
		if err != nil {
			return err
		}
		emit(append(append([]byte("s "), b...), '\n'))
	}
}

// childLoad is the bench's side of a client process.
type childLoad struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	statsC chan loadStats
	done   chan struct{} // closed when the child's output ends
	once   sync.Once
	log    *slog.Logger
}

// startChildLoad starts the client process for t, handing the probe
// positions its clients receive to record, and waits until its clients are
// connected.
func startChildLoad(ctx context.Context, t loadTargets, record probeRecorder, log *slog.Logger) (*childLoad, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "bench", "--log-level", "error")
	cmd.Env = append(os.Environ(), benchClientsEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the bench's client process: %w", err)
	}
	c := &childLoad{cmd: cmd, stdin: stdin, statsC: make(chan loadStats, 1), done: make(chan struct{}), log: log}
	b, err := json.Marshal(t)
	if err == nil {
		_, err = stdin.Write(append(b, '\n'))
	}
	if err != nil {
		c.close()
		return nil, fmt.Errorf("bench client process: %w", err)
	}
	ready := make(chan error, 1)
	go c.read(bufio.NewReader(stdout), record, ready)
	select {
	case err = <-ready:
	case <-ctx.Done():
		err = ctx.Err()
	case <-time.After(time.Duration(t.WSClients+1) * 15 * time.Second):
		err = errors.New("bench client process: no answer")
	}
	if err != nil {
		c.close()
		return nil, err
	}
	return c, nil
}

// read reads the child's lines until its output ends, reporting the first
// on ready.
func (c *childLoad) read(r *bufio.Reader, record probeRecorder, ready chan<- error) {
	defer close(c.done)
	first := true
	answer := func(err error) {
		if first {
			ready <- err
			first = false
		}
	}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			answer(errors.New("bench client process: ended before its clients connected"))
			return
		}
		line = strings.TrimSuffix(line, "\n")
		kind, rest, _ := strings.Cut(line, " ")
		switch kind {
		case "ready":
			answer(nil)
		case "error":
			answer(errors.New(rest))
		case "w", "g":
			f := strings.Fields(rest)
			client := 0
			if kind == "w" && len(f) == 3 {
				client, _ = strconv.Atoi(f[0])
				f = f[1:]
			}
			if len(f) != 2 {
				continue
			}
			lat, err1 := strconv.ParseFloat(f[0], 64)
			ns, err2 := strconv.ParseInt(f[1], 10, 64)
			if err1 == nil && err2 == nil {
				record(kind == "w", client, lat, time.Unix(0, ns))
			}
		case "s":
			var st loadStats
			if err := json.Unmarshal([]byte(rest), &st); err != nil {
				c.log.Warn("bench client process: stats", "err", err)
				continue
			}
			select {
			case c.statsC <- st:
			default:
			}
		}
	}
}

// stats asks the child for its clients' counts; their CPU is the child
// process's (the WebSocket clients and the gRPC stream).
func (c *childLoad) stats() loadStats {
	var st loadStats
	select {
	case <-c.statsC: // a late answer to an earlier request that timed out
	default:
	}
	if _, err := io.WriteString(c.stdin, "stats\n"); err == nil {
		select {
		case st = <-c.statsC:
		case <-c.done:
		case <-time.After(10 * time.Second):
			c.log.Warn("bench client process: no stats")
		}
	}
	st.CPU = procstat.Process(c.cmd.Process.Pid)
	return st
}

// close ends the child (its standard input closed, killed if its output
// has not ended within 5 s) and waits for it.
func (c *childLoad) close() {
	c.once.Do(func() {
		_ = c.stdin.Close()
		select {
		case <-c.done:
		case <-time.After(5 * time.Second):
			_ = c.cmd.Process.Kill()
			<-c.done
		}
		_ = c.cmd.Wait()
	})
}

// noClients is the bench without clients.
type noClients struct{}

func (noClients) stats() loadStats { return loadStats{} }
func (noClients) close()           {}

// startBenchClients connects the clients cfg asks for to srv, timing the
// probe's positions: in a child process with --sim-process, else in this
// one.
func startBenchClients(ctx context.Context, cfg benchConfig, srv *server.Server, probe *latencyProbe, log *slog.Logger) (benchClients, error) {
	if cfg.WSClients == 0 && !cfg.GRPCStream {
		return noClients{}, nil
	}
	t, err := benchTargets(ctx, cfg, srv, probe.id)
	if err != nil {
		return nil, err
	}
	lasts, grpcLast := make([]int, cfg.WSClients), 0
	record := func(ws bool, client int, lat float64, at time.Time) {
		switch {
		case !ws:
			probe.record(&probe.grpc, &grpcLast, lat, at)
		case client >= 0 && client < len(lasts):
			probe.record(&probe.ws, &lasts[client], lat, at)
		}
	}
	if cfg.SimProcess {
		return startChildLoad(ctx, t, record, log)
	}
	return startBenchLoad(ctx, t, record, log)
}
