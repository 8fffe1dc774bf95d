package monitor

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// collector exports what the page shows as gauges on flower's /metrics,
// named after Celery Flower's own Prometheus metrics, so an alert on a
// dead worker or a growing queue needs no scraping of the JSON API. It
// reads on every scrape; nothing is cached between them.
type collector struct{ s *Server }

var (
	descWorkerOnline = prometheus.NewDesc("aird_flower_worker_online",
		"1 if the worker's heartbeat is fresh, else 0.", []string{"worker"}, nil)
	descWorkerActive = prometheus.NewDesc("aird_flower_worker_number_of_currently_executing_tasks",
		"Task instances running on the worker.", []string{"worker"}, nil)
	descQueueLength = prometheus.NewDesc("aird_flower_queue_length",
		"Messages waiting in the broker queue.", []string{"queue"}, nil)
)

// scrapeTimeout bounds a scrape when the store or broker hangs.
const scrapeTimeout = 10 * time.Second

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descWorkerOnline
	ch <- descWorkerActive
	ch <- descQueueLength
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	ws, err := c.s.workers(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(descWorkerOnline, err)
	}
	for _, w := range ws {
		online := 0.0
		if w.Alive {
			online = 1
		}
		ch <- prometheus.MustNewConstMetric(descWorkerOnline, prometheus.GaugeValue, online, w.Name)
		ch <- prometheus.MustNewConstMetric(descWorkerActive, prometheus.GaugeValue, float64(w.Active), w.Name)
	}
	if c.s.o.Broker == nil {
		return
	}
	qs, err := c.s.queues(ctx)
	if err == nil && qs.Error != "" {
		// Zeros would read as "empty queues" while the broker is down.
		return
	}
	if err != nil {
		ch <- prometheus.NewInvalidMetric(descQueueLength, err)
		return
	}
	for _, q := range qs.Queues {
		ch <- prometheus.MustNewConstMetric(descQueueLength, prometheus.GaugeValue, float64(q.Waiting), q.Name)
	}
}
