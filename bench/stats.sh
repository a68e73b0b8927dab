# bench/stats.sh - the figures every bench report prints, defined once;
# sourced by bench/job-latency-report.sh and bench/local-disk.sh.
# Samples are microseconds, one a line (or in column COL); "-" is no sample.

# stats FILE [COL] -> "n median p25 p75" in ms
stats() {
	awk -v c="${2:-1}" '$c != "-" {print $c}' "$1" | sort -n | awk '
		{ a[NR] = $1 }
		END {
			if (NR == 0) { print "0 nan nan nan"; exit }
			m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
			p25 = a[int((NR - 1) * 0.25) + 1]; p75 = a[int((NR - 1) * 0.75) + 1]
			printf "%d %.1f %.1f %.1f\n", NR, m / 1000, p25 / 1000, p75 / 1000
		}'
}
med() { stats "$@" | awk '{print $2}'; }
iqr() { stats "$@" | awk '{printf "%s-%s", $3, $4}'; }
cnt() { stats "$@" | awk '{print $1}'; }
# cell FILE [COL] -> "median (p25-p75)"
cell() { stats "$@" | awk '{printf "%s (%s-%s)", $2, $3, $4}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
diffms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%+.1f", a - b }'; }
