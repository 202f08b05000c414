package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// runWorkers runs the sweep in n worker processes, this program again with
// -shard=i/n, since rapid's settings are process-wide, dealing the units
// among them as they come free (claimsEnv). Their progress lines are passed
// through as they come; their results are read back from files.
func runWorkers(w io.Writer, sw sweep, n int, verbose bool) ([]shardResult, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("workers: cannot find this program to run it again: %w", err)
	}
	dir, err := os.MkdirTemp("", "guardsim-shards-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	claims := filepath.Join(dir, "claims")
	if err := os.Mkdir(claims, 0o755); err != nil {
		return nil, err
	}
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		errs = make([]error, n)
	)
	for i := 1; i <= n; i++ {
		out := filepath.Join(dir, fmt.Sprintf("shard-%d.json", i))
		args := []string{
			"-profile=" + strings.Join(sw.Profiles, ","), "-property=" + strings.Join(sw.Properties, ","),
			"-checks=" + strconv.Itoa(sw.Checks), "-rapidseed=" + strconv.FormatUint(sw.Seed, 10),
			"-chunks=" + strconv.Itoa(sw.Chunks), "-directed=" + strconv.Itoa(sw.Directed), "-shrinktime=" + sw.Shrink,
			fmt.Sprintf("-shard=%d/%d", i, n), "-out=" + out,
		}
		if sw.Plant != "" {
			args = append(args, "-plant="+sw.Plant)
		}
		if len(sw.Focus) > 0 {
			args = append(args, "-focus="+strings.Join(sw.Focus, ","))
		}
		if verbose {
			args = append(args, "-v")
		}
		cmd := exec.Command(exe, args...)
		cmd.Env = append(os.Environ(), claimsEnv+"="+claims)
		var stderr bytes.Buffer
		cmd.Stdout = &lineWriter{mu: &mu, w: w}
		cmd.Stderr = &stderr
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := cmd.Run(); err != nil {
				errs[i-1] = fmt.Errorf("worker %d/%d: %v\n%s", i, n, err, stderr.String())
			}
		}()
	}
	wg.Wait()
	var rs []shardResult
	for i := 1; i <= n; i++ {
		if errs[i-1] != nil {
			return nil, errs[i-1]
		}
		r, err := readShard(filepath.Join(dir, fmt.Sprintf("shard-%d.json", i)))
		if err != nil {
			return nil, err
		}
		rs = append(rs, r)
	}
	return rs, nil
}

// lineWriter passes whole lines to w, one writer at a time, so the
// workers' progress lines never interleave mid-line.
type lineWriter struct {
	mu  *sync.Mutex
	w   io.Writer
	buf []byte
}

func (l *lineWriter) Write(p []byte) (int, error) {
	l.buf = append(l.buf, p...)
	if i := bytes.LastIndexByte(l.buf, '\n'); i >= 0 {
		l.mu.Lock()
		_, err := l.w.Write(l.buf[:i+1])
		l.mu.Unlock()
		l.buf = append(l.buf[:0], l.buf[i+1:]...)
		if err != nil {
			return 0, err
		}
	}
	return len(p), nil
}
