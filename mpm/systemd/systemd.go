// Package systemd is httpdg's integration with systemd, written against
// the documented protocols (sd_notify(3), sd_listen_fds(3)) with no
// libsystemd: readiness and reload notifications for Type=notify and
// Type=notify-reload units, and listening sockets passed by socket
// activation.
//
// The master uses it like this:
//
//	systemd.Notify(systemd.Ready)                  // the first generation accepts connections
//	systemd.Notify(systemd.Reloading())            // a graceful restart or restart begins
//	systemd.Notify(systemd.Ready)                  // ... and is done (or aborted: the old generation serves)
//	systemd.Notify(systemd.Status("generation 3")) // free text shown by systemctl status
//	systemd.Notify(systemd.Stopping)               // a stop begins
//
// Several states can be sent in one message, one per line:
// Notify(Ready + "\n" + Status("...")).
package systemd

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// The environment variables systemd sets.
const (
	NotifySocketEnv  = "NOTIFY_SOCKET"  // where Notify sends; set for Type=notify units
	ListenPIDEnv     = "LISTEN_PID"     // the pid socket activation is meant for
	ListenFDsEnv     = "LISTEN_FDS"     // how many sockets, from fd 3 on
	ListenFDNamesEnv = "LISTEN_FDNAMES" // their names (FileDescriptorName=), colon-separated
)

// listenFDsStart is SD_LISTEN_FDS_START: passed sockets begin at fd 3.
const listenFDsStart = 3

// States for Notify.
const (
	// Ready tells systemd that start-up, or a reload announced with
	// Reloading, is finished. systemd waits for it before starting units
	// ordered after this one and before `systemctl reload` returns.
	Ready = "READY=1"
	// Stopping tells systemd that the service is shutting down.
	Stopping = "STOPPING=1"
)

// Reloading is the state announcing a reload: RELOADING=1 with the
// CLOCK_MONOTONIC time in microseconds, which systemd ≥ 253 requires for
// Type=notify-reload (it matches the READY=1 that follows against the
// reload it asked for). Send Ready when the reload is over, whether it
// succeeded or the old generation goes on serving.
func Reloading() string {
	var ts unix.Timespec
	// CLOCK_MONOTONIC cannot fail on Linux; a zero time would only make
	// systemd ignore the timestamp.
	_ = unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	usec := ts.Sec*1_000_000 + ts.Nsec/1_000
	return "RELOADING=1\nMONOTONIC_USEC=" + strconv.FormatInt(usec, 10)
}

// Status is the free-form status line `systemctl status` shows. Line
// breaks are replaced by spaces, since each line of a notify message is a
// separate assignment.
func Status(text string) string {
	return "STATUS=" + strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(text)
}

// MainPID tells systemd which process is the service's main process, for
// when it is not the one systemd started.
func MainPID(pid int) string {
	return "MAINPID=" + strconv.Itoa(pid)
}

// Notify sends state (newline-separated VAR=value assignments, see the
// constants and helpers above) to systemd over $NOTIFY_SOCKET. It returns
// false and no error when NOTIFY_SOCKET is not set (not started by systemd
// as a notify service), true once the message is sent. The variable is left
// set, since the master notifies again at every reload and at stop;
// systemd's default NotifyAccess=main ignores children that would inherit
// it.
func Notify(state string) (bool, error) {
	addr := os.Getenv(NotifySocketEnv)
	if addr == "" {
		return false, nil
	}
	// A leading '@' is the abstract namespace; Go's Unix addresses already
	// map '@' to the leading NUL byte the kernel expects.
	if addr[0] != '/' && addr[0] != '@' {
		return false, fmt.Errorf("sd_notify: %s=%q is neither a path nor an abstract socket name (vsock is not supported)", NotifySocketEnv, addr)
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: addr, Net: "unixgram"})
	if err != nil {
		return false, fmt.Errorf("sd_notify: connecting to %s: %w", addr, err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(state)); err != nil {
		return false, fmt.Errorf("sd_notify: sending to %s: %w", addr, err)
	}
	return true, nil
}

// Listeners returns the sockets systemd passed by socket activation, in
// the order of the .socket unit's Listen* lines, each *os.File named by
// LISTEN_FDNAMES when given (else "LISTEN_FD_<fd>"). It returns nothing
// when LISTEN_PID is unset or names another process (the variables were
// inherited, not meant for us). The descriptors are marked close-on-exec
// and the variables removed from the environment, whatever the outcome, so
// children started later neither inherit them by accident nor take them
// for their own: the master hands sockets to its children itself.
// Listeners is meant to be called once, early; a second call finds nothing.
func Listeners() ([]*os.File, error) {
	pidStr, fdsStr, names := os.Getenv(ListenPIDEnv), os.Getenv(ListenFDsEnv), os.Getenv(ListenFDNamesEnv)
	for _, name := range []string{ListenPIDEnv, ListenFDsEnv, ListenFDNamesEnv} {
		os.Unsetenv(name)
	}
	if pidStr == "" || fdsStr == "" {
		return nil, nil
	}
	pid, err := strconv.Atoi(pidStr)
	if err != nil {
		return nil, fmt.Errorf("socket activation: %s=%q is not a pid", ListenPIDEnv, pidStr)
	}
	if pid != os.Getpid() {
		return nil, nil
	}
	n, err := strconv.Atoi(fdsStr)
	if err != nil || n < 0 {
		return nil, fmt.Errorf("socket activation: %s=%q is not a count", ListenFDsEnv, fdsStr)
	}
	var nameList []string
	if names != "" {
		nameList = strings.Split(names, ":")
	}
	files := make([]*os.File, 0, n)
	for fd := listenFDsStart; fd < listenFDsStart+n; fd++ {
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			return nil, fmt.Errorf("socket activation: fd %d of %s=%d: %w", fd, ListenFDsEnv, n, err)
		}
		if st.Mode&unix.S_IFMT != unix.S_IFSOCK {
			return nil, fmt.Errorf("socket activation: fd %d of %s=%d is not a socket", fd, ListenFDsEnv, n)
		}
		unix.CloseOnExec(fd)
		name := "LISTEN_FD_" + strconv.Itoa(fd)
		// systemd sends exactly one name per fd; a mismatch means the
		// names cannot be trusted to line up, so none are used.
		if len(nameList) == n && nameList[fd-listenFDsStart] != "" {
			name = nameList[fd-listenFDsStart]
		}
		files = append(files, os.NewFile(uintptr(fd), name))
	}
	return files, nil
}

// ListenerKey returns the address a listening TCP socket is bound to, as
// "host:port" with the host in its canonical form: "0.0.0.0:8080",
// "127.0.0.1:8080", "[::]:8080", "[::1]:8080", "[fe80::1%eth0]:80". The
// master matches these against its Listen directives to use a passed socket
// instead of binding its own. Other sockets (Unix, UDP, not listening) are
// an error.
func ListenerKey(f *os.File) (string, error) {
	raw, err := f.SyscallConn()
	if err != nil {
		return "", fmt.Errorf("socket %s: %w", f.Name(), err)
	}
	var (
		sa        unix.Sockaddr
		sockType  int
		accepting int
		opErr     error
	)
	err = raw.Control(func(fd uintptr) {
		if sockType, opErr = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_TYPE); opErr != nil {
			return
		}
		if accepting, opErr = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_ACCEPTCONN); opErr != nil {
			return
		}
		sa, opErr = unix.Getsockname(int(fd))
	})
	if err == nil {
		err = opErr
	}
	if err != nil {
		return "", fmt.Errorf("socket %s: %w", f.Name(), err)
	}
	if sockType != unix.SOCK_STREAM || accepting == 0 {
		return "", fmt.Errorf("socket %s is not a listening stream socket", f.Name())
	}
	var ap netip.AddrPort
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		ap = netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port))
	case *unix.SockaddrInet6:
		addr := netip.AddrFrom16(sa.Addr)
		if sa.ZoneId != 0 {
			zone := strconv.Itoa(int(sa.ZoneId))
			if ifi, err := net.InterfaceByIndex(int(sa.ZoneId)); err == nil {
				zone = ifi.Name
			}
			addr = addr.WithZone(zone)
		}
		ap = netip.AddrPortFrom(addr, uint16(sa.Port))
	default:
		return "", errors.New("socket " + f.Name() + " is not a TCP socket")
	}
	return ap.String(), nil
}
