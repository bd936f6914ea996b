package phases

import (
	"os"
	"os/exec"
	"time"
)

// StartPipedLogger starts cmd reading a log on its standard input and
// returns the pipe's write end. pool's cleanup closes that end and reaps
// the program: at once when it exits on EOF, in the background when other
// processes (a generation's children still finishing) hold the pipe open,
// so a restart never waits on them.
func StartPipedLogger(pool *Pool, name string, cmd *exec.Cmd) (*os.File, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdin = r
	if cmd.Stdout == nil {
		cmd.Stdout = os.Stderr
	}
	if cmd.Stderr == nil {
		cmd.Stderr = os.Stderr
	}
	if err := cmd.Start(); err != nil {
		r.Close()
		w.Close()
		return nil, err
	}
	r.Close()
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	pool.CleanupRegister(name+" reaper", func() error {
		// The writer's own cleanup (registered after this one, so run
		// first) closed w; give the program a moment to drain and exit.
		select {
		case <-done:
		case <-time.After(2 * time.Second):
		}
		return nil
	})
	return w, nil
}
