package mpm

import (
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/httpdg/httpdg/modules/status"
	"github.com/httpdg/httpdg/mpm/scoreboard"
	"github.com/httpdg/httpdg/phases"
	"golang.org/x/sys/unix"
)

// RunSingle is -X (and, until the multi-process MPMs exist, -D FOREGROUND):
// the whole life cycle in one process with one in-process child. It returns
// when the server stops. ready, if set, is called each time a child is up.
//
// TERM/INT stop: child_exit, pchild destroyed, pconf cleared. HUP/USR1
// restart: the new config is read first and, if it fails, the running
// generation goes on (the error is logged); otherwise the child leaves
// (child_exit), pconf is cleared and a new generation starts with the
// restart count +1. WINCH (graceful-stop) stops, except while stdin is a
// terminal, where resizing a window sends it.
func RunSingle(lc *phases.Lifecycle, signals <-chan os.Signal, ready func()) error {
	if err := lc.Start(); err != nil {
		return err
	}
	// One process, one scoreboard slot: server-status works under -X too.
	settings := SettingsOf(lc.Server.Config)
	board, err := scoreboard.Create(1, settings.ThreadLimit)
	if err != nil {
		lc.Shutdown()
		return fmt.Errorf("creating the scoreboard: %w", err)
	}
	defer board.Close()
	lc.Scoreboard, lc.Server.Scoreboard = board, board
	board.SetMPM(settings.MPM)
	board.SetRestart(lc.Process.Generation, time.Now())
	board.SetActive(1, settings.ThreadsPerChild)
	st := status.GlobalOf(lc.Server.Config)
	board.SetExtended(st.Extended())
	board.SetRequestTail(st.RequestTail())
	board.SetProcess(0, os.Getpid(), lc.Process.Generation)
	ticker := time.NewTicker(time.Second)
	defer ticker.Stop()
	// Requests, not connections, take the workers, whatever the MPM: one
	// process must not be held by idle keep-alive clients.
	bind := func(a phases.ListenAddr) (*os.File, error) { return bindListenerBacklog(a, settings.ListenBacklog) }
	eng := newEngineWith(bind, newWorkers(settings.ThreadsPerChild, true, 1<<20, board, 0))
	first := true
	for {
		pchild := lc.ChildInit()
		err := eng.activate(newGeneration(lc.Server, lc.Hooks.Request, pchild))
		if !first {
			eng.resume()
		}
		if err != nil {
			if first {
				lc.Log.Error("core", "%v", err)
				lc.ChildExit(pchild)
				eng.shutdown(time.Second)
				lc.Shutdown()
				return fmt.Errorf("%w; no listening sockets available, shutting down", err)
			}
			lc.Log.Error("core", "%v (the sockets already open go on serving)", err)
		}
		first = false
		lc.Log.Notice("core", "httpdg configured -- resuming normal operations (generation %d)", lc.Process.Generation)
		if ready != nil {
			ready()
		}
		restart := false
		for !restart {
			select {
			case <-ticker.C:
				lc.Monitor()
			case sig := <-signals:
				switch sig {
				case syscall.SIGWINCH:
					if isTerminal(os.Stdin) {
						continue
					}
					fallthrough
				case syscall.SIGTERM, os.Interrupt:
					lc.Log.Notice("core", "caught %s, shutting down", signalName(sig))
					eng.shutdown(10 * time.Second)
					lc.ChildExit(pchild)
					lc.Shutdown()
					return nil
				case syscall.SIGHUP, syscall.SIGUSR1:
					if _, err := lc.Load(); err != nil {
						lc.Log.Error("core", "restart aborted, generation %d goes on serving: %v", lc.Process.Generation, err)
						continue
					}
					lc.Log.Notice("core", "caught %s, restarting", signalName(sig))
					restart = true
				}
			}
		}
		eng.pause()
		lc.ChildExit(pchild)
		lc.ClearConfig()
		previous := lc.Server.Config
		if err := lc.RunGeneration(); err != nil {
			// The new generation failed after the old one was taken down
			// (open_logs, post_config): rebuild from the previous, already
			// processed config, so the site stays up.
			lc.ClearConfig()
			if err2 := lc.RunGenerationFrom(previous); err2 != nil {
				eng.resume()
				eng.shutdown(10 * time.Second)
				lc.Shutdown()
				return fmt.Errorf("%v; and the previous configuration failed too: %w", err, err2)
			}
			lc.Log.Error("core", "restart aborted, the previous configuration goes on serving as generation %d: %v", lc.Process.Generation, err)
		}
		board.SetRestart(lc.Process.Generation, time.Now())
	}
}

func signalName(sig os.Signal) string {
	switch sig {
	case syscall.SIGTERM:
		return "SIGTERM"
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGHUP:
		return "SIGHUP"
	case syscall.SIGUSR1:
		return "SIGUSR1"
	case syscall.SIGWINCH:
		return "SIGWINCH"
	}
	return sig.String()
}

// isTerminal reports whether f is a terminal.
func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
