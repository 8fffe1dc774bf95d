package dag

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// cronFields is the standard 5-field cron syntax plus @daily-style presets.
const cronFields = cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor

// allHours is a robfig hour mask matching every hour of the day.
const allHours = 1<<24 - 1

// ParseSchedule parses a 5-field cron expression or a preset (@hourly,
// @daily, @midnight, @weekly, @monthly, @yearly, @annually) into a
// Schedule that ticks on the wall clock of loc.
//
// Daylight saving time:
//   - Spring forward: a wall time that does not exist that day has no tick
//     (robfig/cron skips it). A daily 02:30 job in America/New_York does
//     not run for 2024-03-10; its interval runs from 03-09 02:30 EST to
//     03-11 02:30 EDT.
//   - Fall back: robfig/cron would tick twice for a wall time that occurs
//     twice. Like Vixie cron, a schedule with a fixed hour ticks only at
//     the first occurrence, while one whose hour field matches every hour
//     (hourly, */15 * * * *) keeps ticking in real time, so no hour of
//     data is lost and intervals stay one hour long.
func ParseSchedule(expr string, loc *time.Location) (Schedule, error) {
	switch {
	case strings.HasPrefix(expr, "@every"):
		return nil, errors.New("@every is not supported; use a cron expression such as \"*/10 * * * *\"")
	case strings.HasPrefix(expr, "TZ=") || strings.HasPrefix(expr, "CRON_TZ="):
		return nil, errors.New("a time zone prefix is not supported; set the DAG's timezone instead")
	}
	s, err := cron.NewParser(cronFields).Parse(expr)
	if err != nil {
		return nil, fmt.Errorf("%q is not a 5-field cron expression or @hourly/@daily/@weekly/@monthly/@yearly preset: %w", expr, err)
	}
	spec, ok := s.(*cron.SpecSchedule)
	if !ok {
		return nil, fmt.Errorf("unsupported schedule %q", expr)
	}
	if loc == nil {
		loc = time.UTC
	}
	spec.Location = loc
	return &cronSchedule{spec: spec, loc: loc, everyHour: spec.Hour&allHours == allHours}, nil
}

// cronSchedule is a robfig/cron schedule in a DAG's timezone, with the
// fall-back de-duplication described at ParseSchedule.
type cronSchedule struct {
	spec      *cron.SpecSchedule
	loc       *time.Location
	everyHour bool
}

// Next returns the first tick strictly after t, in the schedule's zone, or
// the zero time if there is none within five years (robfig's horizon).
func (s *cronSchedule) Next(t time.Time) time.Time {
	n := s.spec.Next(t.In(s.loc))
	for !s.everyHour && !n.IsZero() && repeatedWallClock(n) {
		n = s.spec.Next(n)
	}
	return n
}

// repeatedWallClock reports whether t's wall-clock reading already
// occurred earlier, because clocks were turned back shortly before t.
func repeatedWallClock(t time.Time) bool {
	start, _ := t.ZoneBounds()
	if start.IsZero() {
		return false
	}
	_, off := t.Zone()
	_, prevOff := start.Add(-time.Nanosecond).Zone()
	back := time.Duration(prevOff-off) * time.Second
	return back > 0 && t.Sub(start) < back
}

// alignNext returns t if it is a tick of s, else the first tick after t.
func alignNext(s Schedule, t time.Time) time.Time {
	n := s.Next(t.Add(-time.Second))
	if n.Before(t) {
		n = s.Next(t)
	}
	return n
}

// prevTick returns the last tick at or before t that is not before floor
// (itself a tick). robfig has no Prev, so it walks forward from ever
// earlier points; the first window is two periods of the schedule, which
// usually holds the answer, and it doubles until it does.
func prevTick(s Schedule, t, floor time.Time) (time.Time, bool) {
	back := time.Minute
	if n1 := s.Next(t); !n1.IsZero() {
		if n2 := s.Next(n1); !n2.IsZero() {
			back = 2 * n2.Sub(n1)
		}
	}
	for ; ; back *= 2 {
		from := t.Add(-back)
		clamped := !from.After(floor) || back > 50*365*24*time.Hour
		if clamped {
			from = floor
		}
		var last time.Time
		for tick := alignNext(s, from); !tick.IsZero() && !tick.After(t); tick = s.Next(tick) {
			last = tick
		}
		if !last.IsZero() || clamped {
			return last, !last.IsZero()
		}
	}
}

// firstStart is the start of the DAG's first data interval: start_date if
// it is a tick, else the first tick after it.
func (d *DAG) firstStart() (time.Time, bool) {
	if d.Schedule == nil || d.StartDate.IsZero() {
		return time.Time{}, false
	}
	t := alignNext(d.Schedule, d.StartDate)
	return t, !t.IsZero()
}

// intervalAt returns the interval starting at tick start, unless it starts
// after end_date or the schedule has no further tick.
func (d *DAG) intervalAt(start time.Time) (Interval, bool) {
	if start.IsZero() || (!d.EndDate.IsZero() && start.After(d.EndDate)) {
		return Interval{}, false
	}
	end := d.Schedule.Next(start)
	if end.IsZero() {
		return Interval{}, false
	}
	return Interval{Start: start.In(d.location()), End: end.In(d.location())}, true
}

// location is the DAG's timezone; UTC for a hand-built DAG without one.
func (d *DAG) location() *time.Location {
	if d.Location == nil {
		return time.UTC
	}
	return d.Location
}

// latestComplete returns the last interval that ended at or before now and
// does not start before the first interval.
func (d *DAG) latestComplete(first, now time.Time) (Interval, bool) {
	end, ok := prevTick(d.Schedule, now, first)
	if !ok {
		return Interval{}, false
	}
	start, ok := prevTick(d.Schedule, end.Add(-time.Nanosecond), first)
	if !ok {
		return Interval{}, false
	}
	return Interval{Start: start.In(d.location()), End: end.In(d.location())}, true
}

// NextIntervalAfter returns the data interval following last (nil: the
// first interval, aligned from start_date), whether or not it is due yet.
// It is false for a manual-only DAG, when the interval would start after
// end_date or when the schedule has no further tick. Unlike NextInterval
// it does not skip ahead for catchup=false, as that depends on now; the
// scheduler uses End to know when to wake up.
//
// As in Airflow, last.End is aligned back to a tick (the schedule may have
// changed since last ran) and a start_date moved past it wins.
func (d *DAG) NextIntervalAfter(last *Interval) (Interval, bool) {
	start, ok := d.firstStart()
	if !ok {
		return Interval{}, false
	}
	if last != nil {
		if p, ok := prevTick(d.Schedule, last.End, start); ok && p.After(start) {
			start = p
		}
	}
	return d.intervalAt(start)
}

// NextInterval returns the data interval of the next scheduled run after
// last (nil: none yet), or false if none is due by now (its End is after
// now), the DAG is manual-only or the interval would start after end_date.
//
// With catchup=false, an interval older than the latest complete one is
// skipped for the latest complete one (never before start_date), as
// Airflow's CronDataIntervalTimetable does.
func (d *DAG) NextInterval(last *Interval, now time.Time) (Interval, bool) {
	iv, ok := d.NextIntervalAfter(last)
	if !ok {
		return Interval{}, false
	}
	if !d.Catchup {
		first, _ := d.firstStart()
		if latest, ok := d.latestComplete(first, now); ok && latest.Start.After(iv.Start) {
			if iv, ok = d.intervalAt(latest.Start); !ok {
				return Interval{}, false
			}
		}
	}
	if iv.End.After(now) {
		return Interval{}, false
	}
	return iv, true
}

// IntervalsBetween returns every interval whose Start lies in [from, to],
// for backfill. Intervals starting after end_date are left out; start_date
// is not applied, since a backfill range is an explicit request.
func (d *DAG) IntervalsBetween(from, to time.Time) []Interval {
	if d.Schedule == nil {
		return nil
	}
	var out []Interval
	for start := alignNext(d.Schedule, from); !start.IsZero() && !start.After(to); {
		iv, ok := d.intervalAt(start)
		if !ok {
			break
		}
		out = append(out, iv)
		start = iv.End
	}
	return out
}
