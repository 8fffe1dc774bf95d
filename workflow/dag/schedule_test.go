package dag

import (
	"fmt"
	"reflect"
	"testing"
	"time"
)

const stamp = "2006-01-02 15:04 MST"

func mustLoc(tb testing.TB, name string) *time.Location {
	tb.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		tb.Fatal(err)
	}
	return loc
}

// local parses "2006-01-02 15:04" in loc.
func local(tb testing.TB, loc *time.Location, s string) time.Time {
	tb.Helper()
	t, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

// scheduledDAG parses a one-task DAG with the given timing attributes.
func scheduledDAG(tb testing.TB, schedule, tz, start string, extra ...string) *DAG {
	tb.Helper()
	src := fmt.Sprintf("dag \"s\" {\n  schedule = %q\n  timezone = %q\n  start_date = %q\n", schedule, tz, start)
	for _, e := range extra {
		src += "  " + e + "\n"
	}
	return mustParseOne(tb, src+"  task \"t\" { command = \"true\" }\n}\n")
}

func fmtIntervals(ivs []Interval) []string {
	out := make([]string, len(ivs))
	for i, iv := range ivs {
		out[i] = iv.Start.Format(stamp) + " -> " + iv.End.Format(stamp)
	}
	return out
}

// checkContiguous asserts the invariants every interval sequence keeps.
func checkContiguous(t *testing.T, d *DAG, ivs []Interval) {
	t.Helper()
	for i, iv := range ivs {
		if !iv.End.After(iv.Start) {
			t.Errorf("interval %d not increasing: %v", i, fmtIntervals(ivs[i:i+1]))
		}
		if !d.Schedule.Next(iv.Start).Equal(iv.End) {
			t.Errorf("interval %d: End is not Next(Start)", i)
		}
		if i > 0 && !iv.Start.Equal(ivs[i-1].End) {
			t.Errorf("interval %d does not start where %d ends", i, i-1)
		}
	}
}

// TestScheduleDST pins the behaviour across daylight saving changes.
//
// Spring forward: a fixed wall time that does not exist that day gets no
// tick (robfig/cron's behaviour, asserted here so an upgrade that changes
// it is caught); the interval spanning the gap is 47h for a daily job.
// Fall back: a fixed wall time that occurs twice ticks once (our fix on
// top of robfig); an hourly schedule keeps ticking every real hour.
func TestScheduleDST(t *testing.T) {
	tests := []struct {
		name, schedule, tz, from, to string
		want                         []string
	}{
		{"new york 02:30 spring forward", "30 2 * * *", "America/New_York", "2024-03-08 00:00", "2024-03-12 00:00", []string{
			"2024-03-08 02:30 EST -> 2024-03-09 02:30 EST",
			"2024-03-09 02:30 EST -> 2024-03-11 02:30 EDT", // no 03-10 run: 02:30 does not exist
			"2024-03-11 02:30 EDT -> 2024-03-12 02:30 EDT",
		}},
		{"new york 02:30 fall back", "30 2 * * *", "America/New_York", "2024-11-02 00:00", "2024-11-04 00:00", []string{
			"2024-11-02 02:30 EDT -> 2024-11-03 02:30 EST", // 25h
			"2024-11-03 02:30 EST -> 2024-11-04 02:30 EST",
		}},
		{"new york 01:30 fall back runs once", "30 1 * * *", "America/New_York", "2024-11-02 00:00", "2024-11-04 00:00", []string{
			"2024-11-02 01:30 EDT -> 2024-11-03 01:30 EDT",
			"2024-11-03 01:30 EDT -> 2024-11-04 01:30 EST", // not 01:30 EST on 11-03
		}},
		{"berlin 02:00 fall back runs once", "0 2 * * *", "Europe/Berlin", "2024-10-26 00:00", "2024-10-27 12:00", []string{
			"2024-10-26 02:00 CEST -> 2024-10-27 02:00 CEST",
			"2024-10-27 02:00 CEST -> 2024-10-28 02:00 CET",
		}},
		{"berlin 02:30 spring forward", "30 2 * * *", "Europe/Berlin", "2024-03-30 00:00", "2024-03-31 12:00", []string{
			"2024-03-30 02:30 CET -> 2024-04-01 02:30 CEST",
		}},
		{"berlin hourly spring forward", "@hourly", "Europe/Berlin", "2024-03-31 00:00", "2024-03-31 04:00", []string{
			"2024-03-31 00:00 CET -> 2024-03-31 01:00 CET",
			"2024-03-31 01:00 CET -> 2024-03-31 03:00 CEST", // one real hour
			"2024-03-31 03:00 CEST -> 2024-03-31 04:00 CEST",
			"2024-03-31 04:00 CEST -> 2024-03-31 05:00 CEST",
		}},
		{"berlin hourly fall back", "0 * * * *", "Europe/Berlin", "2024-10-27 01:00", "2024-10-27 03:00", []string{
			"2024-10-27 01:00 CEST -> 2024-10-27 02:00 CEST",
			"2024-10-27 02:00 CEST -> 2024-10-27 02:00 CET", // the repeated hour runs
			"2024-10-27 02:00 CET -> 2024-10-27 03:00 CET",
			"2024-10-27 03:00 CET -> 2024-10-27 04:00 CET",
		}},
		{"seoul daily, no DST", "@daily", "Asia/Seoul", "2024-03-09 00:00", "2024-03-11 00:00", []string{
			"2024-03-09 00:00 KST -> 2024-03-10 00:00 KST",
			"2024-03-10 00:00 KST -> 2024-03-11 00:00 KST",
			"2024-03-11 00:00 KST -> 2024-03-12 00:00 KST",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := scheduledDAG(t, tc.schedule, tc.tz, "2024-01-01")
			ivs := d.IntervalsBetween(local(t, d.Location, tc.from), local(t, d.Location, tc.to))
			if got := fmtIntervals(ivs); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
			checkContiguous(t, d, ivs)
		})
	}
}

// TestScheduleNextFromAnyTime checks that Next from an arbitrary time is
// the first tick after it, including from inside the repeated hour of a
// fall-back, where robfig alone would return the duplicate 01:30.
func TestScheduleNextFromAnyTime(t *testing.T) {
	for _, tc := range []struct{ schedule, tz, from string }{
		{"30 1 * * *", "America/New_York", "2024-11-01 00:00"},
		{"30 2 * * *", "America/New_York", "2024-03-08 00:00"},
		{"*/20 * * * *", "Europe/Berlin", "2024-10-26 22:00"},
		{"15 1,2,3 * * *", "Europe/Berlin", "2024-10-26 22:00"},
	} {
		t.Run(tc.schedule+" "+tc.tz, func(t *testing.T) {
			loc := mustLoc(t, tc.tz)
			s, err := ParseSchedule(tc.schedule, loc)
			if err != nil {
				t.Fatal(err)
			}
			start := local(t, loc, tc.from)
			var ticks []time.Time
			for tick := s.Next(start); tick.Before(start.Add(96 * time.Hour)); tick = s.Next(tick) {
				if len(ticks) > 0 && !tick.After(ticks[len(ticks)-1]) {
					t.Fatalf("Next not strictly increasing at %s", tick.Format(stamp))
				}
				ticks = append(ticks, tick)
			}
			for at := start; at.Before(start.Add(72 * time.Hour)); at = at.Add(7 * time.Minute) {
				want := ticks[0]
				for _, tick := range ticks {
					if tick.After(at) {
						want = tick
						break
					}
				}
				if got := s.Next(at); !got.Equal(want) {
					t.Fatalf("Next(%s) = %s, want %s", at.Format(stamp), got.Format(stamp), want.Format(stamp))
				}
			}
		})
	}
}

func TestParseSchedulePresets(t *testing.T) {
	from := time.Date(2024, 1, 10, 12, 34, 0, 0, time.UTC) // a Wednesday
	for expr, want := range map[string]time.Time{
		"@hourly":     time.Date(2024, 1, 10, 13, 0, 0, 0, time.UTC),
		"@daily":      time.Date(2024, 1, 11, 0, 0, 0, 0, time.UTC),
		"@midnight":   time.Date(2024, 1, 11, 0, 0, 0, 0, time.UTC),
		"@weekly":     time.Date(2024, 1, 14, 0, 0, 0, 0, time.UTC),
		"@monthly":    time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC),
		"@yearly":     time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		"@annually":   time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		"0 2 * * 1-5": time.Date(2024, 1, 11, 2, 0, 0, 0, time.UTC),
	} {
		s, err := ParseSchedule(expr, time.UTC)
		if err != nil {
			t.Errorf("%s: %v", expr, err)
			continue
		}
		if got := s.Next(from); !got.Equal(want) {
			t.Errorf("%s: Next = %v, want %v", expr, got, want)
		}
	}
	for _, bad := range []string{"", "* * * *", "@every 5m", "CRON_TZ=UTC 0 * * * *", "@often", "0 0 2 * * *"} {
		if _, err := ParseSchedule(bad, time.UTC); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestNextInterval(t *testing.T) {
	utc := func(s string) time.Time { return local(t, time.UTC, s) }
	iv := func(start, end string) *Interval { return &Interval{utc(start), utc(end)} }
	daily := func(extra ...string) *DAG { return scheduledDAG(t, "0 2 * * *", "UTC", "2024-01-01", extra...) }
	tests := []struct {
		name string
		dag  *DAG
		last *Interval
		now  string
		want *Interval // nil: none due
	}{
		{"catchup: first interval aligned after start_date", daily("catchup = true"), nil, "2024-01-05 12:00",
			iv("2024-01-01 02:00", "2024-01-02 02:00")},
		{"catchup: next after last", daily("catchup = true"), iv("2024-01-01 02:00", "2024-01-02 02:00"), "2024-01-05 12:00",
			iv("2024-01-02 02:00", "2024-01-03 02:00")},
		{"no catchup: skip to latest complete", daily(), nil, "2024-01-05 12:00",
			iv("2024-01-04 02:00", "2024-01-05 02:00")},
		{"no catchup: due exactly at End", daily(), nil, "2024-01-05 02:00",
			iv("2024-01-04 02:00", "2024-01-05 02:00")},
		{"no catchup: old last skips forward", daily(), iv("2024-01-01 02:00", "2024-01-02 02:00"), "2024-01-05 12:00",
			iv("2024-01-04 02:00", "2024-01-05 02:00")},
		{"no catchup: recent last continues", daily(), iv("2024-01-03 02:00", "2024-01-04 02:00"), "2024-01-05 12:00",
			iv("2024-01-04 02:00", "2024-01-05 02:00")},
		{"not due yet", daily(), iv("2024-01-04 02:00", "2024-01-05 02:00"), "2024-01-05 12:00", nil},
		{"first interval not complete", daily(), nil, "2024-01-02 01:59", nil},
		{"start_date on a tick is the first start", scheduledDAG(t, "0 2 * * *", "UTC", "2024-01-01T02:00:00Z", "catchup = true"),
			nil, "2024-01-09 00:00", iv("2024-01-01 02:00", "2024-01-02 02:00")},
		{"start_date moved past last", scheduledDAG(t, "0 2 * * *", "UTC", "2024-02-01", "catchup = true"),
			iv("2024-01-01 02:00", "2024-01-02 02:00"), "2024-03-01 00:00", iv("2024-02-01 02:00", "2024-02-02 02:00")},
		{"last.End off the schedule aligns back", daily("catchup = true"), iv("2024-01-02 05:00", "2024-01-03 05:00"), "2024-01-09 00:00",
			iv("2024-01-03 02:00", "2024-01-04 02:00")},
		{"interval starting on end_date runs", daily("catchup = true", `end_date = "2024-01-03T02:00:00Z"`),
			iv("2024-01-02 02:00", "2024-01-03 02:00"), "2024-01-09 00:00", iv("2024-01-03 02:00", "2024-01-04 02:00")},
		{"past end_date", daily("catchup = true", `end_date = "2024-01-03T02:00:00Z"`),
			iv("2024-01-03 02:00", "2024-01-04 02:00"), "2024-01-09 00:00", nil},
		{"no catchup skips past end_date", daily(`end_date = "2024-01-03"`), nil, "2024-01-09 00:00", nil},
		{"manual DAG", mustParseOne(t, `dag "m" {}`), nil, "2024-01-09 00:00", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := tc.dag.NextInterval(tc.last, utc(tc.now))
			switch {
			case tc.want == nil && ok:
				t.Errorf("got %v, want none due", fmtIntervals([]Interval{got}))
			case tc.want != nil && !ok:
				t.Errorf("got none due, want %v", fmtIntervals([]Interval{*tc.want}))
			case tc.want != nil && (!got.Start.Equal(tc.want.Start) || !got.End.Equal(tc.want.End)):
				t.Errorf("got %v, want %v", fmtIntervals([]Interval{got}), fmtIntervals([]Interval{*tc.want}))
			}
		})
	}
}

func TestNextIntervalAfter(t *testing.T) {
	d := scheduledDAG(t, "0 * * * *", "Asia/Seoul", "2024-01-01T00:30:00+09:00", `end_date = "2024-01-01T03:00:00+09:00"`)
	var got []string
	var last *Interval
	for {
		iv, ok := d.NextIntervalAfter(last)
		if !ok {
			break
		}
		got = append(got, iv.Start.Format(stamp)+" -> "+iv.End.Format(stamp))
		last = &iv
	}
	want := []string{
		"2024-01-01 01:00 KST -> 2024-01-01 02:00 KST",
		"2024-01-01 02:00 KST -> 2024-01-01 03:00 KST",
		"2024-01-01 03:00 KST -> 2024-01-01 04:00 KST",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if _, ok := mustParseOne(t, `dag "m" {}`).NextIntervalAfter(nil); ok {
		t.Error("manual DAG has a next interval")
	}
}

func TestIntervalsBetween(t *testing.T) {
	d := scheduledDAG(t, "0 0 * * 1", "UTC", "2024-01-15", `end_date = "2024-01-29"`)
	ivs := d.IntervalsBetween(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 2, 28, 0, 0, 0, 0, time.UTC))
	want := []string{ // Mondays from `from` (inclusive) to end_date, before start_date too
		"2024-01-01 00:00 UTC -> 2024-01-08 00:00 UTC",
		"2024-01-08 00:00 UTC -> 2024-01-15 00:00 UTC",
		"2024-01-15 00:00 UTC -> 2024-01-22 00:00 UTC",
		"2024-01-22 00:00 UTC -> 2024-01-29 00:00 UTC",
		"2024-01-29 00:00 UTC -> 2024-02-05 00:00 UTC",
	}
	if got := fmtIntervals(ivs); !reflect.DeepEqual(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	checkContiguous(t, d, ivs)
	if got := d.IntervalsBetween(time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC), time.Date(2024, 1, 7, 0, 0, 0, 0, time.UTC)); len(got) != 0 {
		t.Errorf("no Monday in range, got %q", fmtIntervals(got))
	}
}
