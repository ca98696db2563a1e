//go:build unix

package loadtest

import (
	"os"
	"strings"
	"syscall"
	"time"
)

// cpuTime returns the CPU time (user + system) this process has used so
// far: with the server in-process, the server's and the clients' together.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loadAverage returns the 1-minute load average of the machine ("" when
// unknown): a load above the number of CPUs means other work competed with
// the run.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return ""
	}
	return f[0]
}
